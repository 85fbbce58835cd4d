"""The PyInstaller bundle (`make bundle` first): it runs from outside the source tree with no
network, passes its self-test offscreen, and shows its main window on a real X server.

Run by `make bundle-test` in its own pytest process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.waiting import wait_until
from tests.xserver import start_xvfb, window_manager_ready

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "dist" / "captionist"
EXE = BUNDLE / "captionist"
SHOTS = ROOT / "tests" / "ui" / "x11" / "shots"

pytestmark = pytest.mark.skipif(not EXE.exists(), reason="run `make bundle` first")


def clean_env(tmp_path: Path) -> dict[str, str]:
    """Nothing from the venv or the checkout: a user's session."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "CAPTIONIST_NO_DIALOGS": "1",
    }


def test_selftest_offscreen_without_network_outside_the_tree(tmp_path: Path) -> None:
    copy = tmp_path / "opt" / "captionist"  # where a user would unpack it
    shutil.copytree(BUNDLE, copy, symlinks=True)
    env = {**clean_env(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    # A network namespace with only loopback: no route to anywhere (root can do this here).
    command = [str(copy / "captionist"), "--selftest"]
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
        command = ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *command]
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and "country" in report["text"].lower()
    assert str(tmp_path) in report["model_path"]  # the model inside the bundle copy


@pytest.fixture
def xserver(tmp_path: Path) -> Iterator[str]:
    xvfb, display = start_xvfb("1280x800x24")
    wm = subprocess.Popen(["openbox"], env={**os.environ, "DISPLAY": display})
    wait_until(lambda: window_manager_ready(display), 20, "openbox to manage the screen", 0.1)
    yield display
    wm.terminate()
    xvfb.terminate()
    wm.wait(timeout=10)
    xvfb.wait(timeout=10)


def test_bundle_shows_its_main_window_under_xvfb(tmp_path: Path, xserver: str) -> None:
    env = {**clean_env(tmp_path), "DISPLAY": xserver, "QT_QPA_PLATFORM": "xcb"}
    log = tmp_path / "stderr.log"
    # A file, not a pipe: polled with a deadline, where reading a silent pipe would hang.
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [str(EXE), "--log-level", "INFO"], cwd=tmp_path, env=env, stderr=stderr, text=True
        )

    def window_ids() -> list[str]:
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "^Captionist$"],
            env={**os.environ, "DISPLAY": xserver},
            capture_output=True,
            text=True,
            timeout=10,
        )
        return found.stdout.split()

    try:
        wait_until(
            lambda: "ready to caption" in log.read_text() or proc.poll() is not None,
            60,
            "ready to caption (or an early exit)",
            0.2,
        )
        seen = log.read_text()
        assert "window shown" in seen and "ready to caption" in seen, seen
        wait_until(window_ids, 30, "the main window mapped on the X server", 0.2)
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / "bundle-main-window.png"
        subprocess.run(
            ["import", "-window", "root", str(shot)],
            env={**os.environ, "DISPLAY": xserver},
            check=True,
        )
        assert shot.stat().st_size > 10_000
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
