"""The running app as a screen reader reads it, over a real AT-SPI bus under Xvfb: every
control has a name, the transcript's rows expose their text, and each new caption is
announced (an `object:announcement` event carrying its words)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain.journal import decode_lines
from tests.conftest import ROOT, SPEECH_DIR, TIMEOUT_FACTOR

pytestmark = pytest.mark.x11
CLIP = SPEECH_DIR / "audio" / "pub_librispeech_session_01.flac"
READER = Path(__file__).with_name("atspi_reader.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-pyatspi lives there, not in the venv
LAUNCHER = "/usr/libexec/at-spi-bus-launcher"
# Controls a screen reader user operates or reads: each must say what it is.
NAMED_ROLES = {
    "push button", "toggle button", "check box", "radio button", "combo box", "text",
    "spin button", "slider", "list", "table", "tree table", "progress bar", "page tab",
}  # fmt: skip
LISTEN_S = 75.0


@pytest.fixture
def session_bus() -> Iterator[dict[str, str]]:
    missing = [tool for tool in ("dbus-daemon", LAUNCHER, SYSTEM_PYTHON) if not shutil.which(tool)]
    if missing or subprocess.run([SYSTEM_PYTHON, "-c", "import pyatspi"]).returncode:
        pytest.fail(f"accessibility stack missing ({missing or 'pyatspi'}): see .ci/run")
    bus = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
        capture_output=True, text=True, check=True, timeout=20,
    )  # fmt: skip
    address, pid = bus.stdout.split()[:2]
    env = {"DBUS_SESSION_BUS_ADDRESS": address}
    launcher = subprocess.Popen(
        [LAUNCHER, "--launch-immediately"], env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    yield env
    launcher.terminate()
    launcher.wait(timeout=10)
    subprocess.run(["kill", pid], check=False)


def test_a_screen_reader_finds_every_control_named_and_hears_each_caption(
    display: str, session_bus: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **os.environ,
        **session_bus,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
        "CAPTIONIST_DATA_DIR": str(tmp_path / "data"),
        "CAPTIONIST_LOG_DIR": str(tmp_path / "logs"),
        "XDG_CONFIG_HOME": str(tmp_path),
        "CAPTIONIST_NO_DIALOGS": "1",
    }
    app = subprocess.Popen(
        [sys.executable, "-m", "app", "gui", "--file", str(CLIP)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        listen_s = LISTEN_S * TIMEOUT_FACTOR
        reader = subprocess.run(
            [SYSTEM_PYTHON, str(READER), "captionist", str(listen_s)],
            env=env, capture_output=True, text=True, timeout=listen_s + 120,
        )  # fmt: skip
    finally:
        app.terminate()
        app.wait(timeout=30)
    lines = [json.loads(line) for line in reader.stdout.splitlines() if line.startswith("{")]
    assert lines and "error" not in lines[0], reader.stdout + reader.stderr
    nodes = [line["node"] for line in lines if "node" in line]
    events = [line["event"] for line in lines if "event" in line]
    (journal,) = (tmp_path / "data" / "sessions").glob("*.jsonl")
    heard = " ".join(s.text for s in decode_lines(journal.read_text().splitlines())).lower()
    assert len(heard.split()) > 20, "the app captioned too little to judge"

    main_window = nodes[: next(i for i, n in enumerate(nodes[2:], 2) if n["depth"] <= 1)]
    unnamed = [n["role"] for n in main_window if n["role"] in NAMED_ROLES and not n["name"]]
    assert unnamed == [], f"controls a screen reader cannot name: {unnamed}"

    def from_captions(text: str) -> bool:
        words = [w.strip(".,?!:").lower() for w in text.split()]
        return len(words) >= 3 and sum(w in heard for w in words) >= 0.8 * len(words)

    rows = [n for n in main_window if n["role"] in ("list item", "table cell")]
    assert any(from_captions(n["name"] or n["text"]) for n in rows), rows[:5]
    spoken = [e["text"] for e in events if e["type"].startswith("object:announcement")]
    assert sum(from_captions(text) for text in spoken) >= 3, events[:10]
