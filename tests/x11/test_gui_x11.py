"""The desktop app in a real X session: two windows, captions on the overlay, stay on top,
SIGTERM exits 0, SIGKILL loses no journaled segment. Screenshots go to tests/x11/shots/."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.domain.journal import decode_lines
from tests.conftest import EVAL_DIR, ROOT, TIMEOUT_FACTOR

pytestmark = pytest.mark.x11
SHOTS = ROOT / "tests" / "x11" / "shots"
CLIP = EVAL_DIR / "audio" / "pub_librispeech_session_01.flac"


def xdotool(display: str, *args: str) -> str:
    result = subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=10,
    )
    return result.stdout.strip()


def window_ids(display: str, name: str) -> list[str]:
    return xdotool(display, "search", "--onlyvisible", "--name", name).split()


def geometry(display: str, window: str) -> tuple[int, int, int, int]:
    values = dict(
        line.split("=")
        for line in xdotool(display, "getwindowgeometry", "--shell", window).splitlines()
    )
    return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])


def screenshot(display: str, name: str) -> np.ndarray:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    subprocess.run(
        ["import", "-window", "root", str(path)],
        check=True,
        timeout=20,
        env={**os.environ, "DISPLAY": display},
    )
    from PySide6.QtGui import QImage

    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(  # type: ignore[call-overload]
        image.height(), image.bytesPerLine()
    )
    # Copy while the QImage still owns the memory.
    return rows[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def wait_until(condition, timeout: float, step: float = 0.2):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout * TIMEOUT_FACTOR
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


@pytest.fixture
def app(display: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "CAPTIONIST_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path),
        "CAPTIONIST_NO_DIALOGS": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "gui", "--file", str(CLIP)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield proc, tmp_path / "data" / "sessions"
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def caption_pixels(shot: np.ndarray, box: tuple[int, int, int, int]) -> int:
    x, y, w, h = box
    region = shot[y : y + h, x : x + w].astype(int)
    return int(((region > 200).all(axis=2)).sum())  # near-white caption text


def test_main_window_and_overlay_with_captions_stay_on_top_and_sigterm_exits_0(
    app: tuple[subprocess.Popen[str], Path], display: str
) -> None:
    proc, _ = app
    main = wait_until(lambda: window_ids(display, "^Captionist$"), 30)
    overlay = wait_until(lambda: window_ids(display, "Captionist captions"), 30)
    assert main and overlay and main != overlay
    box = geometry(display, overlay[0])
    wait_until(lambda: caption_pixels(screenshot(display, "captions"), box) > 200, 40, 0.5)
    # Another window on top of the stack: the overlay must still be seen above it.
    xdotool(display, "windowactivate", "--sync", main[0])
    xdotool(display, "windowraise", main[0])
    xdotool(display, "windowmove", main[0], str(box[0]), str(box[1] - 40))
    time.sleep(1.0)
    shot = screenshot(display, "overlay-above-main-window")
    assert caption_pixels(shot, box) > 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30 * TIMEOUT_FACTOR) == 0, proc.stderr.read() if proc.stderr else ""


def test_sigkill_mid_session_loses_no_journaled_segment(
    app: tuple[subprocess.Popen[str], Path], display: str
) -> None:
    proc, sessions = app

    def journal_lines() -> list[str] | None:
        files = list(sessions.glob("*.jsonl")) if sessions.is_dir() else []
        if not files:
            return None
        lines = files[0].read_text().splitlines()
        return lines if len(lines) >= 3 else None

    wait_until(journal_lines, 60, 0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    (journal,) = sessions.glob("*.jsonl")
    raw = journal.read_text()
    complete = [line for line in raw.split("\n")[:-1]]  # everything before the last newline
    records = [json.loads(line) for line in complete]
    assert len(records) >= 3
    assert all({"text", "start", "end", "source", "is_final"} <= set(r) for r in records)
    assert len(decode_lines(raw.splitlines())) >= len(records)
    from app.services.journal import crashed_sessions

    assert crashed_sessions(sessions) == [journal]
    assert soundfile.info(str(CLIP)).duration > records[-1]["end"]
