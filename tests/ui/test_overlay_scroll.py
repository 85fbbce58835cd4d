"""Issue 14 item 3, reading back on the overlay (offscreen): lines that keep their words once
the overlay holds its most, scrolling back a few lines and returning to live, by keys and from
the View menu."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_API", "pyside6")
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QKeySequence

from app.domain.transcript import Segment
from app.services.settings import OverlayLook
from app.ui.main_window import MainWindow
from app.ui.overlay.caption_overlay import MAX_WORDS_KEPT, CaptionOverlay
from app.ui.overlay.keys import OverlayKeys
from app.ui.transcript.model import TranscriptModel


def final(text: str, start: float = 0.0) -> Segment:
    return Segment(text, start, start + 1.0, "Others", True, True)


def texts(overlay: CaptionOverlay) -> list[list[str]]:
    return [[token.text for token in line] for line in overlay.visible_lines()]


def speak(overlay: CaptionOverlay, count: int, first: int = 0) -> None:
    """`count` finals of three words each, every word different, 2 to 12 letters long."""
    for n in range(first, first + count):
        numbers = range(3 * n, 3 * n + 3)
        overlay.add_final(final(" ".join(f"w{k}" + "o" * (7 * k % 11) for k in numbers)))


@pytest.fixture
def overlay(qtbot) -> CaptionOverlay:  # type: ignore[no-untyped-def]
    overlay = CaptionOverlay(OverlayLook(lines=2, font_size=20, fade_after_s=0.0))
    qtbot.addWidget(overlay)
    overlay.resize(500, 130)
    return overlay


def test_earlier_lines_keep_their_words_once_the_overlay_holds_its_most(
    overlay: CaptionOverlay,
) -> None:
    overlay.apply_look(OverlayLook(lines=4, font_size=20, fade_after_s=0.0))
    overlay.resize(500, 220)
    speak(overlay, MAX_WORDS_KEPT // 3)  # full
    for n in range(MAX_WORDS_KEPT // 3, MAX_WORDS_KEPT // 3 + 40):
        before = texts(overlay)
        speak(overlay, 1, n)
        after = texts(overlay)
        for line in before[:-1]:  # the last line may grow
            if any(line[0] in later for later in after):  # not rolled off the top
                assert line in after, (line, after)


def test_scrolling_back_shows_earlier_lines_and_new_finals_do_not_move_them(
    overlay: CaptionOverlay,
) -> None:
    speak(overlay, 20)
    live = texts(overlay)
    assert overlay.lines_back == 0 and overlay.hint() == ""
    overlay.scroll_back()
    one_back = texts(overlay)
    assert overlay.lines_back == 1 and one_back[-1] == live[0] and one_back != live
    assert overlay.hint() == "▲ 1 line back — Esc: live"
    overlay.scroll_back()
    assert texts(overlay)[-1] == one_back[0]
    assert overlay.hint() == "▲ 2 lines back — Esc: live"
    held = texts(overlay)
    speak(overlay, 3, 20)
    overlay.set_interim(Segment("still talking", 90.0, 91.0, "Others", False, False))
    assert texts(overlay) == held  # new words do not move what is being read
    overlay.scroll_forward()
    assert texts(overlay) == one_back
    overlay.go_live()
    assert overlay.lines_back == 0 and overlay.hint() == ""
    now = texts(overlay)
    assert now != live and now[-1][-1] == "talking"  # live again, with the newer words


def test_scrolling_back_stops_at_the_first_word_kept_and_forward_at_live(
    overlay: CaptionOverlay,
) -> None:
    speak(overlay, 80)  # more than the overlay keeps
    for _ in range(500):
        overlay.scroll_back()
    oldest = texts(overlay)
    farthest = overlay.lines_back
    assert farthest > 3 and len(oldest) == 2
    overlay.scroll_back()
    assert overlay.lines_back == farthest
    kept_first = overlay.kept_words()[0]
    assert oldest[0][0] == kept_first and len(overlay.kept_words()) <= MAX_WORDS_KEPT
    for _ in range(farthest + 3):
        overlay.scroll_forward()
    assert overlay.lines_back == 0


def test_nothing_to_scroll_back_to_stays_live(overlay: CaptionOverlay) -> None:
    overlay.add_final(final("just a few words"))
    overlay.scroll_back()
    assert overlay.lines_back == 0 and overlay.hint() == ""


def hint_pixels(overlay: CaptionOverlay) -> int:
    """Pixels of the interim colour in the overlay's top right corner, where the hint goes."""
    image = overlay.grab().toImage()
    target = QColor(overlay.look.interim_color)
    box = QRect(overlay.width() // 2, 0, overlay.width() // 2, overlay.height() // 3)
    return sum(
        1
        for y in range(box.top(), box.bottom())
        for x in range(box.left(), box.right())
        if abs(image.pixelColor(x, y).red() - target.red()) < 30
        and abs(image.pixelColor(x, y).blue() - target.blue()) < 30
        and image.pixelColor(x, y).alpha() > 200
    )


def test_the_hint_is_drawn_only_while_reading_back(overlay: CaptionOverlay) -> None:
    overlay.apply_look(OverlayLook(lines=2, font_size=20, fade_after_s=0.0, background_opacity=1))
    speak(overlay, 20)
    assert hint_pixels(overlay) == 0
    overlay.scroll_back()
    assert hint_pixels(overlay) > 20


def test_reading_back_returns_to_live_by_itself_after_a_while(
    qtbot, overlay: CaptionOverlay
) -> None:  # type: ignore[no-untyped-def]
    overlay.return_to_live_s = 0.3
    speak(overlay, 20)
    overlay.scroll_back()
    qtbot.waitUntil(lambda: overlay.lines_back == 0, timeout=3000)
    assert overlay.hint() == ""


def test_reading_back_holds_the_fade_and_reaches_words_that_faded(qtbot) -> None:  # type: ignore[no-untyped-def]
    reading = CaptionOverlay(OverlayLook(lines=2, font_size=20, fade_after_s=0.2))
    qtbot.addWidget(reading)
    reading.resize(500, 130)
    reading.show()
    speak(reading, 20)
    reading.scroll_back()
    held = texts(reading)
    faded = CaptionOverlay(OverlayLook(lines=2, font_size=20, fade_after_s=0.2))
    qtbot.addWidget(faded)
    faded.resize(500, 130)
    faded.show()
    speak(faded, 20)
    last = texts(faded)[-1]
    qtbot.waitUntil(lambda: not faded.tokens(), timeout=3000)  # well past 0.2 s
    assert texts(reading) == held and reading.windowOpacity() == 1.0
    assert reading.tokens()  # not faded under the reader: back at live, the words are up
    faded.scroll_back()  # faded words can still be read back
    assert texts(faded)[-1] == last


def test_the_keys_and_the_view_menu_scroll_the_overlay(qtbot, overlay: CaptionOverlay) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(TranscriptModel())
    qtbot.addWidget(window)
    keys = OverlayKeys(window, overlay)
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    listed = {action.text(): action for action in view_menu.actions()}
    assert listed["Scroll captions back"].shortcut() == QKeySequence("Ctrl+Shift+Up")
    assert listed["Scroll captions forward"].shortcut() == QKeySequence("Ctrl+Shift+Down")
    assert listed["Captions back to live"].shortcut() == QKeySequence("Ctrl+Shift+End")
    escape = QKeySequence(Qt.Key.Key_Escape)
    assert escape not in keys.live.shortcuts()  # Esc is free while the overlay is live
    with qtbot.waitActive(window):  # the keys work while the main window is the active one
        window.show()
        window.activateWindow()
    window.view.setFocus()
    speak(overlay, 20)
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window.view, Qt.Key.Key_Up, ctrl_shift)
    qtbot.keyClick(window.view, Qt.Key.Key_Up, ctrl_shift)
    assert overlay.lines_back == 2
    qtbot.keyClick(window.view, Qt.Key.Key_Down, ctrl_shift)
    assert overlay.lines_back == 1 and escape in keys.live.shortcuts()
    qtbot.keyClick(window.view, Qt.Key.Key_Escape)
    assert overlay.lines_back == 0 and escape not in keys.live.shortcuts()
    listed["Scroll captions back"].trigger()
    qtbot.keyClick(window.view, Qt.Key.Key_End, ctrl_shift)
    assert overlay.lines_back == 0
