"""Small widgets the Settings dialog is built from."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QLabel, QPushButton


def note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class ColourButton(QPushButton):
    changed = Signal()  # a new colour, picked or set

    def __init__(self, colour: str) -> None:
        super().__init__()
        self.colour = colour
        self.clicked.connect(self._pick)
        self._show()

    def set_colour(self, colour: str) -> None:
        if colour != self.colour:
            self.colour = colour
            self._show()
            self.changed.emit()

    def _show(self) -> None:
        self.setText(self.colour)
        self.setStyleSheet(
            f"background: {self.colour}; color: "
            f"{'#000' if QColor(self.colour).lightness() > 128 else '#fff'};"
        )

    def _pick(self) -> None:
        chosen = QColorDialog.getColor(QColor(self.colour), self, "Choose a colour")
        if chosen.isValid():
            self.set_colour(chosen.name())
