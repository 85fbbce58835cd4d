"""A scene for overlay screenshots, run as its own process on an X display:

    python -m tests.ui.x11.overlay_scene "Yellow on black" [--outline] [--read-back]

A busy desktop stand-in (a light document on the left, a dark one on the right) fills the
screen, and the real CaptionOverlay, in the preset's colours at the default opacity, lies across
both with a few finals and an interim. It prints "shown" once the windows are up and runs until
it is terminated."""

from __future__ import annotations

import sys

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import QApplication, QWidget

from app.domain.transcript import Segment
from app.services.settings import OverlayLook
from app.ui.overlay.caption_overlay import CaptionOverlay
from app.ui.overlay.presets import with_preset

# Not the whole screen: openbox would take a screen-sized window for a full-screen one and
# stack it above the windows that stay on top.
DESKTOP = QRect(0, 0, 1280, 700)
OVERLAY = QRect(140, 430, 1000, 190)
DOCUMENT = [
    "Quarterly budget review: agenda",
    "1. Hiring plan for the support team",
    "2. Cloud costs, March to May",
    "3. The new office lease",
    "Notes: bring the figures from the last meeting",
    "and the draft of the customer survey.",
] * 3


class Desktop(QWidget):
    """Light text on dark and dark text on light: what captions must stay readable over."""

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        half = self.width() // 2
        painter.fillRect(0, 0, half, self.height(), QColor("#f4f4f0"))
        painter.fillRect(half, 0, self.width() - half, self.height(), QColor("#1d2633"))
        font = QFont(self.font())
        font.setPointSize(18)
        painter.setFont(font)
        for column, colour in ((0, "#30343a"), (half, "#dfe6ee")):
            painter.setPen(QColor(colour))
            for row, line in enumerate(DOCUMENT):
                painter.drawText(column + 30, 50 + row * 38, line)


def main(argv: list[str]) -> int:
    preset, outline, read_back = argv[0], "--outline" in argv, "--read-back" in argv
    app = QApplication([])
    desktop = Desktop()
    desktop.setWindowFlags(
        Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnBottomHint
    )
    desktop.setGeometry(DESKTOP)
    desktop.show()
    look = with_preset(OverlayLook(lines=3, fade_after_s=0.0, outline=outline), preset)
    overlay = CaptionOverlay(look)
    overlay.setGeometry(OVERLAY)
    for n, text in enumerate(
        [
            "Good morning everyone, thanks for joining so early.",
            "Let's start with the budget review, then the hiring plan.",
            "Maria, could you share the figures from last quarter?",
            "Sure, one moment while I find the spreadsheet.",
        ]
    ):
        overlay.add_final(Segment(text, n * 4.0, n * 4.0 + 3.0, "Others", True, True))
    overlay.set_interim(Segment("So the total came to", 17.0, 18.0, "Others", False, False))
    if read_back:
        overlay.scroll_back()
        overlay.return_to_live_s = 3600.0  # held for the screenshot
    overlay.show()
    QTimer.singleShot(200, lambda: print("shown", flush=True))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
