"""A stand-in for a video call, for the README's screenshots (tools/screenshots.py):

    python -m tools.call_scene

Four participant tiles on a dark call window, the way a meeting app looks while Captionist's
overlay captions it. It prints "shown" once the window is up and runs until terminated."""

from __future__ import annotations

import sys

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import QApplication, QWidget

CALL = QRect(0, 0, 1280, 760)
PEOPLE = [("Maria", "#3b6ea5"), ("Dev", "#8a5a9e"), ("Aiko", "#4f8a5b"), ("You", "#a5683b")]


class CallWindow(QWidget):
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#16191d"))
        gap, bar = 12, 56
        width = (self.width() - 3 * gap) // 2
        height = (self.height() - bar - 3 * gap) // 2
        name_font = QFont(self.font())
        name_font.setPointSize(13)
        initial_font = QFont(self.font())
        initial_font.setPointSize(44)
        initial_font.setBold(True)
        for index, (name, colour) in enumerate(PEOPLE):
            x = gap + (index % 2) * (width + gap)
            y = gap + (index // 2) * (height + gap)
            painter.setBrush(QColor("#262b31"))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(x, y, width, height, 10, 10)
            painter.setBrush(QColor(colour))
            side = min(width, height) // 2
            painter.drawEllipse(x + (width - side) // 2, y + (height - side) // 2, side, side)
            painter.setPen(QColor("#ffffff"))
            painter.setFont(initial_font)
            painter.drawText(QRect(x, y, width, height), Qt.AlignmentFlag.AlignCenter, name[0])
            painter.setFont(name_font)
            painter.drawText(x + 14, y + height - 14, name)
        painter.fillRect(0, self.height() - bar, self.width(), bar, QColor("#0e1013"))
        painter.setBrush(QColor("#c0392b"))
        painter.drawRoundedRect(self.width() // 2 - 60, self.height() - bar + 10, 120, 36, 18, 18)
        painter.setPen(QColor("#ffffff"))
        painter.setFont(name_font)
        painter.drawText(
            QRect(self.width() // 2 - 60, self.height() - bar + 10, 120, 36),
            Qt.AlignmentFlag.AlignCenter,
            "Leave",
        )


def main() -> int:
    app = QApplication([])
    window = CallWindow()
    window.setWindowTitle("Team meeting")
    window.setGeometry(CALL)
    window.show()
    QTimer.singleShot(200, lambda: print("shown", flush=True))
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
