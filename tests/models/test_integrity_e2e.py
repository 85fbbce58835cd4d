"""A corrupt default model, as a user would meet it: its installed package has one changed
byte. The CLI, the self-test and the desktop app (offscreen subprocess) must all refuse it,
name the file, and copy nothing into the cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.models.registry import TINY_EN
from tests.conftest import ROOT, TIMEOUT_FACTOR
from tests.packaged_models import bad_cached_files, shadow_tiny_en

pytestmark = pytest.mark.e2e
BAD = "config.json"  # changed so that it still parses: only the hash check can catch it


@pytest.fixture(scope="module")
def corrupt_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(site folder to put first on PYTHONPATH, the corrupt file inside it)."""
    site = tmp_path_factory.mktemp("site")
    return site, shadow_tiny_en(site, corrupt=BAD) / BAD


@pytest.fixture
def env(corrupt_model: tuple[Path, Path], tmp_path: Path) -> dict[str, str]:
    site, _ = corrupt_model
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    isolated = {
        name: str(tmp_path / folder)
        for name, folder in (
            ("HOME", "home"),
            ("XDG_CONFIG_HOME", "config"),
            ("XDG_DATA_HOME", "data"),
            ("XDG_CACHE_HOME", "xdg-cache"),
            ("XDG_STATE_HOME", "state"),
            ("CAPTIONIST_CACHE_DIR", "cache"),  # empty: no good cached copy to fall back on
            ("CAPTIONIST_DATA_DIR", "captionist-data"),
            ("CAPTIONIST_LOG_DIR", "logs"),
        )
    }
    return {
        **os.environ,
        **isolated,
        "PYTHONPATH": path,
        "QT_QPA_PLATFORM": "offscreen",
        "CAPTIONIST_NO_DIALOGS": "1",
    }


def captionist(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120 * TIMEOUT_FACTOR,
    )


def assert_no_bad_copy(env: dict[str, str]) -> None:
    folder = Path(env["CAPTIONIST_CACHE_DIR"]) / "models" / TINY_EN.name
    assert not (folder / BAD).exists()
    assert bad_cached_files(folder, TINY_EN) == []


@pytest.mark.parametrize("args", [["tiny.en"], []], ids=["named", "all-installed"])
def test_models_verify_refuses_a_corrupt_default_model_and_names_the_file(
    env: dict[str, str], corrupt_model: tuple[Path, Path], args: list[str]
) -> None:
    _, bad_file = corrupt_model
    result = captionist(env, "models", "verify", *args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ok" not in result.stdout
    assert "captionist: error:" in result.stderr and str(bad_file) in result.stderr
    assert "sha256" in result.stderr and "Traceback" not in result.stderr
    assert_no_bad_copy(env)


def test_selftest_reports_the_corrupt_default_model_as_not_ok(
    env: dict[str, str], corrupt_model: tuple[Path, Path]
) -> None:
    _, bad_file = corrupt_model
    result = captionist(env, "--selftest")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is False and "text" not in report
    error = report["error"]
    assert error.startswith("The speech model tiny.en cannot be used") and str(bad_file) in error
    assert error.endswith("Install it again: `captionist models install tiny.en`")
    assert_no_bad_copy(env)


def test_desktop_app_shows_the_engine_failure_for_a_corrupt_default_model(
    env: dict[str, str], corrupt_model: tuple[Path, Path], tmp_path: Path
) -> None:
    _, bad_file = corrupt_model
    wav = tmp_path / "tone.wav"  # given with --file: with a loadable model it would caption
    t = np.arange(32000) / 16000
    soundfile.write(wav, (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    log_file = Path(env["CAPTIONIST_LOG_DIR"]) / "captionist.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "gui", "--file", str(wav)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90 * TIMEOUT_FACTOR
        log = ""
        while time.monotonic() < deadline and proc.poll() is None:
            log = log_file.read_text() if log_file.is_file() else ""
            if "engine failed to load" in log or "ready to caption" in log:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the app exited instead of showing the failure"
        assert "engine failed to load" in log, log
        # The window's status shows this exception's text (controller.server_failed).
        assert "ModelHashMismatch" in log and str(bad_file) in log and "sha256" in log
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30 * TIMEOUT_FACTOR) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = proc.stderr.read() if proc.stderr else ""
    log = log_file.read_text()
    assert "ready to caption" not in log and "engine failed to load" in stderr
    assert not (Path(env["CAPTIONIST_DATA_DIR"]) / "sessions").exists()  # nothing captioned
    assert_no_bad_copy(env)
