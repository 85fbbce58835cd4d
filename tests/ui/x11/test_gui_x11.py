"""The desktop app in a real X session: two windows, captions on the overlay, stay on top,
SIGTERM exits 0, SIGKILL loses no journaled segment. Screenshots go to tests/ui/x11/shots/."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.domain.journal import decode_lines
from tests.conftest import ROOT, SPEECH_DIR, TIMEOUT_FACTOR
from tests.waiting import wait_until

pytestmark = pytest.mark.x11
SHOTS = Path(__file__).resolve().parent / "shots"
CLIP = SPEECH_DIR / "audio" / "pub_librispeech_session_01.flac"


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


STDERR = "stderr.log"  # in the test's tmp_path: the app's DEBUG log, read after it is killed


@pytest.fixture
def app(display: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "CAPTIONIST_DATA_DIR": str(tmp_path / "data"),
        "CAPTIONIST_LOG_DIR": str(tmp_path / "logs"),
        "XDG_CONFIG_HOME": str(tmp_path),
        "CAPTIONIST_NO_DIALOGS": "1",
    }
    # A file, not a pipe: nobody reads while the app runs, and a full pipe would block it.
    with (tmp_path / STDERR).open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--log-level", "DEBUG", "gui", "--file", str(CLIP)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    yield proc, tmp_path / "data" / "sessions"
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def shown_finals(log: Path) -> list[dict[str, object]]:
    """The finals the app displayed, from its "final shown" DEBUG lines (whole lines only)."""
    marker = "final shown: "
    lines = log.read_text(encoding="utf-8").split("\n")[:-1]  # the last one may be half written
    return [json.loads(line.split(marker, 1)[1]) for line in lines if marker in line]


def caption_pixels(shot: np.ndarray, box: tuple[int, int, int, int]) -> int:
    x, y, w, h = box
    region = shot[y : y + h, x : x + w].astype(int)
    return int(((region > 200).all(axis=2)).sum())  # near-white caption text


def inside(point: tuple[int, int], box: tuple[int, int, int, int]) -> bool:
    x, y, w, h = box
    return x <= point[0] < x + w and y <= point[1] < y + h


def overlap(
    a: tuple[int, int, int, int], b: tuple[int, int, int, int]
) -> tuple[int, int, int, int]:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return left, top, max(0, right - left), max(0, bottom - top)


def dimmed_share(shot: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """The share of `box` darker than mid-grey. The overlay's dark background (#101418 at 72 %)
    composited over the main window's white panel measures about 88; the bare panel is 255."""
    x, y, w, h = box
    region = shot[y : y + h, x : x + w].astype(int)
    return float((region.max(axis=2) < 128).mean())


def test_main_window_and_overlay_with_captions_stay_on_top_and_sigterm_exits_0(
    app: tuple[subprocess.Popen[str], Path], display: str, tmp_path: Path
) -> None:
    proc, _ = app
    main = wait_until(lambda: window_ids(display, "^Captionist$"), 30, "the main window", 0.2)
    overlay = wait_until(
        lambda: window_ids(display, "Captionist captions"), 30, "the overlay window", 0.2
    )
    assert main and overlay and main != overlay
    box = geometry(display, overlay[0])
    wait_until(
        lambda: caption_pixels(screenshot(display, "captions"), box) > 200, 40, "captions", 0.5
    )
    # Another window on top of the stack: the overlay must still be seen above it.
    old = geometry(display, main[0])
    xdotool(display, "windowactivate", "--sync", main[0])
    xdotool(display, "windowraise", main[0])
    xdotool(display, "windowmove", main[0], str(box[0]), str(box[1] - 40))
    new = wait_until(
        lambda: (g := geometry(display, main[0]))[:2] != old[:2] and g, 10, "the move", 0.1
    )
    # The middle of where the main window was: bare desktop once the move is on screen.
    probe = (old[0] + old[2] // 2, old[1] + old[3] // 2)
    assert not inside(probe, new) and not inside(probe, box)

    def painted() -> list[np.ndarray]:  # a list: an array has no truth value
        shot = screenshot(display, "overlay-above-main-window")
        desktop = shot[2, 2]  # a corner no window covers
        patch = shot[probe[1] : probe[1] + 4, probe[0] : probe[0] + 4]
        return [shot] if (patch == desktop).all() else []

    (shot,) = wait_until(painted, 10, "the compositor to paint the moved window", 0.1)
    # Where the two windows overlap, the overlay must be what is seen: its dark background dims
    # the main window's light panel, and only its white caption text stays bright.
    both = overlap(new, box)
    assert both[2] * both[3] > 0.5 * box[2] * box[3], (both, box)
    share = dimmed_share(shot, both)
    assert share > 0.8, f"the overlay dims only {share:.0%} of its area: it is covered"
    assert caption_pixels(shot, both) > 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30 * TIMEOUT_FACTOR) == 0, (tmp_path / STDERR).read_text()


def test_sigkill_mid_session_loses_no_journaled_segment(
    app: tuple[subprocess.Popen[str], Path], display: str, tmp_path: Path
) -> None:
    """Every final the app had shown before a SIGKILL is in its journal, same text and times."""
    proc, sessions = app
    log = tmp_path / STDERR
    wait_until(lambda: len(shown_finals(log)) >= 3, 60, "three finals shown", 0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    shown = shown_finals(log)
    (journal,) = sessions.glob("*.jsonl")
    raw = journal.read_text()
    complete = raw.split("\n")[:-1]  # everything before the last newline
    records = [json.loads(line) for line in complete]
    assert all({"text", "start", "end", "source", "is_final"} <= set(r) for r in records)
    assert len(decode_lines(raw.splitlines())) >= len(records)
    # A final is journaled before it is shown, so what was shown is the journal's beginning
    # (the journal may hold one more, killed between the two). Its times are rounded to ms.
    keys = ("text", "start", "end", "source")
    journaled = [{key: record[key] for key in keys} for record in records]
    expected = [
        {**final, "start": round(final["start"], 3), "end": round(final["end"], 3)}  # type: ignore[call-overload]
        for final in shown
    ]
    assert len(shown) >= 3
    assert journaled[: len(shown)] == expected
    from app.services.journal import crashed_sessions

    assert crashed_sessions(sessions) == [journal]
    assert soundfile.info(str(CLIP)).duration > records[-1]["end"]
