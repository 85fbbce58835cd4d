"""Qt widgets offscreen: transcript model, overlay, settings, main window, qasync soak."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.services.caption_events import CaptionState

os.environ.setdefault("QT_API", "pyside6")
import qasync
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from app.domain.transcript import Segment
from app.services.settings import AppSettings, OverlayLook
from app.ui.main_window import MainWindow
from app.ui.overlay.caption_overlay import CaptionOverlay
from app.ui.settings_store import SettingsStore
from app.ui.transcript.model import SegmentRole, TranscriptModel


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop that re-raises exceptions the loop would otherwise only log."""
    loop = qasync.QEventLoop(qapp)
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)
    assert errors == []


@pytest.fixture
def store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def seg(
    text: str,
    start: float,
    *,
    final: bool = True,
    speech_final: bool = True,
    source: str = "Others",
) -> Segment:
    return Segment(text, start, start + 1.0, source, final, speech_final)


def test_transcript_model_groups_finals_into_turns(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    qtmodeltester.check(model)
    model.append(seg("And so", 0.0, speech_final=False))
    model.append(seg("my fellow Americans.", 1.0))
    model.append(seg("Hello.", 1.5, source="You"))
    model.extend([seg("Restored.", 10.0), seg("Two.", 11.0)])
    qtmodeltester.check(model)
    assert model.rowCount() == 3  # a turn each: Others, You, the restored Others
    first = model.data(model.index(0), SegmentRole)
    assert first.text == "And so my fellow Americans." and first.end == 2.0
    assert model.data(model.index(0)) == "[00:00] Others: And so my fellow Americans."
    assert model.data(model.index(2)) == "[00:10] Others: Restored. Two."
    assert [s.text for s in model.segments] == [
        "And so my fellow Americans.",
        "Hello.",
        "Restored.",
        "Two.",
    ]


def test_export_is_offered_only_once_there_is_a_line_to_export(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    window = MainWindow(model)
    qtbot.addWidget(window)
    assert not window.export_action.isEnabled()
    assert "Nothing to export yet" in window.export_action.toolTip()
    model.append(Segment("Good morning everyone.", 0.0, 1.5, "Others"))
    assert window.export_action.isEnabled()
    model.clear()  # a new session
    assert not window.export_action.isEnabled()
    model.extend([Segment("Restored.", 0.0, 1.0, "You")])  # a session continued
    assert window.export_action.isEnabled()


def test_overlay_window_flags_and_translucency(qtbot) -> None:  # type: ignore[no-untyped-def]
    overlay = CaptionOverlay(OverlayLook())
    qtbot.addWidget(overlay)
    overlay.show()
    flags = overlay.windowFlags()
    for flag in (
        Qt.WindowType.FramelessWindowHint,
        Qt.WindowType.WindowStaysOnTopHint,
        Qt.WindowType.Tool,
        Qt.WindowType.WindowDoesNotAcceptFocus,
    ):
        assert flags & flag
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
    assert not flags & Qt.WindowType.WindowTransparentForInput
    overlay.set_click_through(True)
    assert overlay.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert overlay.isVisible()
    overlay.set_click_through(False)  # and the way back
    assert not overlay.windowFlags() & Qt.WindowType.WindowTransparentForInput


def text_pixels(overlay: CaptionOverlay, colour: str) -> int:
    image = overlay.grab().toImage()
    target = QColor(colour)
    count = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - target.red())
                + abs(pixel.green() - target.green())
                + abs(pixel.blue() - target.blue())
                < 40
            ):
                count += 1
    return count


def test_overlay_draws_finals_and_interims_in_different_colours(qtbot) -> None:  # type: ignore[no-untyped-def]
    look = OverlayLook(text_color="#ffffff", interim_color="#00c0ff", background_opacity=0.8)
    overlay = CaptionOverlay(look)
    qtbot.addWidget(overlay)
    overlay.resize(800, 140)
    overlay.show()
    assert text_pixels(overlay, "#ffffff") == 0
    overlay.add_final(seg("Good morning everyone", 0))
    assert text_pixels(overlay, "#ffffff") > 50 and text_pixels(overlay, "#00c0ff") == 0
    overlay.set_interim(seg("and welcome", 2, final=False))
    assert text_pixels(overlay, "#00c0ff") > 20
    background = overlay.grab().toImage().pixelColor(5, overlay.height() // 2)
    assert 150 <= background.alpha() <= 255 - 40  # translucent, not clear


def test_overlay_keeps_earlier_lines_still_and_shows_at_most_n_lines(qtbot) -> None:  # type: ignore[no-untyped-def]
    overlay = CaptionOverlay(OverlayLook(lines=4, font_size=20))
    qtbot.addWidget(overlay)
    overlay.resize(500, 200)
    for i in range(12):
        overlay.add_final(seg(f"word{i}", i, speech_final=False))
    before = [[t.text for t in line] for line in overlay.visible_lines()]
    assert 2 <= len(before) < 4
    for guess in ("a", "a revised", "a revised guess"):
        overlay.set_interim(seg(guess, 31, final=False))
        after = [[t.text for t in line] for line in overlay.visible_lines()]
        # Lines wrap from the start of the text: interims only touch the last line(s).
        assert after[: len(before) - 1] == before[:-1]
    for i in range(40):
        overlay.add_final(seg(f"more{i}", 40 + i, speech_final=False))
    overlay.set_interim(seg("another", 90, final=False))
    lines = overlay.visible_lines()
    assert len(lines) == 4
    assert lines[-1][-1].text == "another" and not lines[-1][-1].final


def test_overlay_fades_after_silence_and_returns_with_speech(qtbot) -> None:  # type: ignore[no-untyped-def]
    overlay = CaptionOverlay(OverlayLook(fade_after_s=0.2))
    qtbot.addWidget(overlay)
    overlay.show()
    overlay.add_final(seg("hello", 0))
    qtbot.waitUntil(lambda: not overlay.tokens(), timeout=3000)
    overlay.add_final(seg("again", 2))
    assert overlay.windowOpacity() == 1.0 and [t.text for t in overlay.tokens()] == ["again"]


def test_overlay_labels_sources_in_both_mode(qtbot) -> None:  # type: ignore[no-untyped-def]
    overlay = CaptionOverlay()
    qtbot.addWidget(overlay)
    overlay.add_final(seg("hi there", 0, source="You"))
    overlay.add_final(seg("hello", 1, source="Others"))
    texts = [t.text for t in overlay.tokens()]
    assert texts == ["hi", "there", "Others:", "hello"]


def test_settings_round_trip(store: SettingsStore) -> None:
    look = OverlayLook(
        font_size=34, text_color="#ffee00", background_opacity=0.5, lines=3, click_through=True
    )
    app = AppSettings(
        source="both",
        microphone_id="mic:x",
        model="base",
        language="de",
        export_folder="/tmp/exports",
        show_overlay=False,
    )
    store.save_look(look)
    store.save_app(app)
    store.save_overlay_geometry("screen-1920x1080", [10, 20, 800, 120])
    reread = SettingsStore(QSettings(store.qsettings.fileName(), QSettings.Format.IniFormat))
    assert reread.load_look() == look
    assert reread.load_app() == app
    assert reread.overlay_geometry("screen-1920x1080") == [10, 20, 800, 120]
    assert reread.overlay_geometry("other-screen") is None


def test_main_window_search_and_autoscroll_pause(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    window = MainWindow(model)
    qtbot.addWidget(window)
    window.show()
    model.extend(  # two voices taking turns: a row each
        [
            seg(f"line {i} about budgets" if i % 10 == 0 else f"line {i}", i, source=voice)
            for i, voice in zip(range(300), itertools.cycle(("Others", "You")), strict=False)
        ]
    )
    assert model.rowCount() == 300
    window.follow_live()
    assert window.following
    bar = window.view.verticalScrollBar()
    bar.setValue(0)  # the user scrolls back to read
    assert not window.following and window.live_button.isVisibleTo(window)
    model.append(seg("new words", 400))
    assert bar.value() == 0  # not yanked to the bottom
    window.search.setText("BUDGETS")
    assert window.proxy.rowCount() == 30
    window.search.clear()
    window.follow_live()
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())


def test_main_window_buttons_follow_the_state(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(TranscriptModel())
    qtbot.addWidget(window)
    started: list[str] = []
    window.start_requested.connect(started.append)
    window.set_running(CaptionState.IDLE, "")
    window.source_combo.setCurrentIndex(window.source_combo.findData("both"))
    window.start_action.trigger()
    assert started == ["both"]
    window.set_running(CaptionState.STREAMING, "Microphone")
    assert not window.start_action.isEnabled() and window.stop_action.isEnabled()
    window.set_running(CaptionState.PAUSED, "")
    assert window.pause_action.text() == "Resume"
    window.set_running(CaptionState.ERROR, "no microphone found")
    assert "no microphone found" in window.state_label.text()


def test_qasync_soak_many_loop_callbacks_with_websocket_traffic(qloop) -> None:  # type: ignore[no-untyped-def]
    """PySide6 6.12 on CPython 3.11 died after a few thousand of these (refcount bug)."""
    import threading

    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve

    async def echo(ws) -> None:  # type: ignore[no-untyped-def]
        async for message in ws:
            await ws.send(message)

    async def scenario() -> int:
        loop = asyncio.get_running_loop()
        callbacks = 0
        done = asyncio.Event()

        def tick() -> None:
            nonlocal callbacks
            callbacks += 1
            if callbacks >= 50_000:
                done.set()

        def feeder() -> None:  # like an audio thread: call_soon_threadsafe is a Signal.emit
            for _ in range(25_000):
                loop.call_soon_threadsafe(tick)

        async with serve(echo, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            thread = threading.Thread(target=feeder)
            thread.start()
            async with connect(f"ws://127.0.0.1:{port}") as ws:
                round_trips = 0
                while not done.is_set():
                    await ws.send(json.dumps({"n": round_trips}))
                    assert json.loads(await ws.recv())["n"] == round_trips
                    round_trips += 1
                    for _ in range(10):
                        loop.call_soon(tick)
            thread.join()
        return round_trips

    round_trips = qloop.run_until_complete(asyncio.wait_for(scenario(), 300))
    assert round_trips > 1000


def test_main_window_shows_how_many_echoed_sentences_were_hidden(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(TranscriptModel())
    qtbot.addWidget(window)
    window.set_echoes_hidden(0)
    assert window.echo_label.isHidden()
    window.set_echoes_hidden(3)
    assert not window.echo_label.isHidden()
    assert window.echo_label.text() == "3 echoed sentences hidden"
    window.set_echoes_hidden(1)
    assert window.echo_label.text() == "1 echoed sentence hidden"


def test_main_window_says_which_echo_cancelling_a_both_session_has(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(TranscriptModel())
    qtbot.addWidget(window)
    window.set_echo_cancelling("sound server (WebRTC)")
    assert not window.echo_cancel_label.isHidden()
    assert window.echo_cancel_label.text() == "Echo cancelling: sound server (WebRTC)"
    window.set_echo_cancelling("")  # not Both mode
    assert window.echo_cancel_label.isHidden()
