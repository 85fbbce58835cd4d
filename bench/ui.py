"""Desktop responsiveness: Qt event-loop stalls while captioning, a 20,000-segment meeting, and
the session library.

    QT_QPA_PLATFORM=offscreen python bench/ui.py [--seconds 60] [--segments 20000]
        [--library-sessions 500] [--library-segments 200000] [--parts captioning,transcript,library]

1. Captions a recording in real time through the real app parts (main window, overlay,
   controller, embedded server, tiny.en) and times a 5 ms QTimer: a late tick is a stall.
   Prints p99 and max stall.
2. Appends 20,000 final segments one at a time to the transcript panel (autoscroll on), then
   scrolls, searches and exports it; prints the longest single step of each and the RSS.
3. Writes a library of 500 sessions / 200,000 segments (bench/library.py) and, through the
   app's controller and its Library window (what Ctrl+L opens), times: the first open (the
   index is built in a worker thread), an open once indexed (target < 1 s), ~20 searches typed
   into the window (from the end of the typing pause to the hits shown; target < 200 ms), and
   opening a hit's session at its line; the longest 5 ms QTimer stall of each (target < 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import qasync  # noqa: E402
from library import QUERIES, build_library  # noqa: E402
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.audio.replay import FileReplaySource  # noqa: E402
from app.commands.embedded import embedded_server, load_engine  # noqa: E402
from app.domain.export import export  # noqa: E402
from app.domain.transcript import Segment  # noqa: E402
from app.ui.controller import AppController  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.overlay.caption_overlay import CaptionOverlay  # noqa: E402
from app.ui.settings_store import SettingsStore  # noqa: E402
from app.ui.transcript.model import TranscriptModel  # noqa: E402

EVAL = ROOT / "tests" / "speech" / "audio"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class StallMeter:
    def __init__(self, interval_ms: int = 5) -> None:
        self.interval = interval_ms / 1000
        self.stalls: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.stalls.append(max(0.0, now - self._last - self.interval))
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()


async def captioning_stalls(seconds: float) -> tuple[list[float], int]:
    store = SettingsStore(QSettings(tempfile.mktemp(suffix=".ini"), QSettings.Format.IniFormat))
    model = TranscriptModel()
    window = MainWindow(model)
    overlay = CaptionOverlay(store.load_look())
    controller = AppController(window, overlay, model, store, journal_dir=Path(tempfile.mkdtemp()))
    window.show()
    overlay.show()
    engine = await asyncio.to_thread(load_engine, "whisper", "tiny.en")
    clip = EVAL / "pub_ljspeech_session_01.flac"
    async with embedded_server(engine) as (url, token):
        controller.server_ready(url, token, "whisper tiny.en")
        source = FileReplaySource(clip)
        meter = StallMeter()
        meter.start()
        run = asyncio.ensure_future(controller.run(source))
        await asyncio.sleep(seconds)
        controller.session.stop()
        await run
        meter.timer.stop()
    await engine.aclose()
    return meter.stalls, model.rowCount()


def big_transcript(count: int) -> dict[str, float]:
    model = TranscriptModel()
    window = MainWindow(model)
    window.resize(800, 600)
    window.show()
    app = QApplication.instance()
    assert app is not None
    rng = np.random.default_rng(1)
    words = [
        "budget",
        "schedule",
        "supplier",
        "milestone",
        "review",
        "testing",
        "spring",
        "draft",
        "report",
    ]
    figures: dict[str, float] = {}
    worst = 0.0
    start = time.perf_counter()
    for i in range(count):
        text = " ".join(rng.choice(words, size=12))
        t0 = time.perf_counter()
        model.append(
            Segment(text, i * 3.0, i * 3.0 + 2.5, "Others" if i % 3 else "You", True, True)
        )
        app.processEvents()
        worst = max(worst, time.perf_counter() - t0)
    figures["append total s"] = time.perf_counter() - start
    figures["append worst ms"] = worst * 1000
    for name, action in (
        ("scroll to top ms", window.view.scrollToTop),
        ("scroll to bottom ms", window.view.scrollToBottom),
        ("search ms", lambda: window.search.setText("milestone budget")),
        ("clear search ms", window.search.clear),
    ):
        t0 = time.perf_counter()
        action()
        app.processEvents()
        figures[name] = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    for fmt in ("txt", "srt", "vtt", "json", "md"):
        export(model.segments, fmt)
    figures["export 5 formats ms"] = (time.perf_counter() - t0) * 1000
    figures["RSS MB"] = rss_mb()
    return figures


async def _until(predicate: Callable[[], object], within: float = 120.0) -> float:
    """Seconds until `predicate` holds, the loop running meanwhile."""
    began = time.perf_counter()
    while not predicate():
        if time.perf_counter() - began > within:
            raise TimeoutError(f"not done within {within} s")
        await asyncio.sleep(0.001)
    return time.perf_counter() - began


def _worst_ms(meter: StallMeter) -> float:
    worst = max(meter.stalls, default=0.0) * 1000
    meter.stalls.clear()
    return worst


async def library_window(sessions: int, segments: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="captionist-ui-library-") as temp:
        folder = Path(temp) / "sessions"
        build_library(folder, sessions, segments)
        store = SettingsStore(QSettings(str(Path(temp) / "s.ini"), QSettings.Format.IniFormat))
        model = TranscriptModel()
        main = MainWindow(model)
        overlay = CaptionOverlay(store.load_look())
        controller = AppController(main, overlay, model, store, journal_dir=folder)
        main.show()
        meter = StallMeter()
        meter.start()
        began = time.perf_counter()
        window = controller.library.show()  # what File → Library… (Ctrl+L) does
        await _until(lambda: window.sessions_model.rowCount() == sessions)
        window.repaint()
        figures["first open, index built ms"] = (time.perf_counter() - began) * 1000
        figures["first open, worst stall ms"] = _worst_ms(meter)
        window.close()
        await _until(lambda: not controller.tasks)
        _worst_ms(meter)
        window.sessions_model.set_sessions([])
        began = time.perf_counter()
        controller.library.show()
        await _until(lambda: window.sessions_model.rowCount() == sessions)
        window.repaint()
        figures["open, indexed ms"] = (time.perf_counter() - began) * 1000
        figures["open, indexed, worst stall ms"] = _worst_ms(meter)
        asked: list[float] = []
        shown: list[float] = []
        window.search_requested.connect(lambda _: asked.append(time.perf_counter()))
        window.hits_model.modelReset.connect(lambda: shown.append(time.perf_counter()))
        latencies = []
        for query in QUERIES:
            window.search.clear()
            asked.clear()
            shown.clear()
            window.search.setText(query)  # as typed: the window waits for a pause, then asks
            await _until(lambda: asked and shown and shown[-1] > asked[-1])
            window.hits.repaint()
            latencies.append((time.perf_counter() - asked[-1]) * 1000)
        figures["search p50 ms"] = float(np.percentile(latencies, 50))
        figures["search max ms"] = max(latencies)
        figures["searches, worst stall ms"] = _worst_ms(meter)
        window.search.setText("the")  # a common word: hits in every session
        await _until(lambda: window.hits_model.rowCount() > 0)
        hit = window.hits_model.hit_at(window.hits_model.rowCount() - 1)
        assert hit is not None
        _worst_ms(meter)
        began = time.perf_counter()
        window.hit_opened.emit(hit)
        await _until(lambda: hit.session_id in controller.library.viewers)
        viewer = controller.library.viewers[hit.session_id]
        await _until(lambda: viewer.row_shown(hit.row))
        figures["open a hit at its line ms"] = (time.perf_counter() - began) * 1000
        figures["open a hit, worst stall ms"] = _worst_ms(meter)
        meter.timer.stop()
        viewer.close()
        window.close()
        main.hide()
        await _until(lambda: not controller.tasks)
        controller.library.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--segments", type=int, default=20000)
    parser.add_argument("--library-sessions", type=int, default=500)
    parser.add_argument("--library-segments", type=int, default=200_000)
    parser.add_argument("--parts", default="captioning,transcript,library")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    if "captioning" in parts:
        with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
            stalls, rows = runner.run(captioning_stalls(args.seconds))
        ms = np.array(stalls) * 1000
        print(
            f"captioning {args.seconds:.0f} s in real time ({rows} transcript rows), "
            f"{len(ms)} timer ticks"
        )
        print(f"event-loop stall p99 {np.percentile(ms, 99):.1f} ms, max {ms.max():.1f} ms")
    if "transcript" in parts:
        for name, value in big_transcript(args.segments).items():
            print(f"{args.segments} segments: {name:<22} {value:8.1f}")
    if "library" in parts:
        size = f"{args.library_sessions} sessions / {args.library_segments} segments"
        with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
            figures = runner.run(library_window(args.library_sessions, args.library_segments))
        for name, value in figures.items():
            print(f"library of {size}: {name:<30} {value:8.1f}")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
