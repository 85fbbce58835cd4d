"""Issue 14 item 3, reading on the overlay (offscreen): lines that keep their words once the
overlay holds its most."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_API", "pyside6")

from app.domain.transcript import Segment
from app.ui.overlay import MAX_WORDS_KEPT, CaptionOverlay
from app.ui.settings_store import OverlayLook


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
