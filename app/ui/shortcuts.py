"""Help → Keyboard shortcuts: every shortcut of the main window's actions, read from the
actions themselves (so the list cannot go stale), plus the keys that are not actions."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

# Keys handled by widgets rather than actions: (keys, what they do).
OTHER_KEYS = (
    ("Tab / Shift+Tab", "Move between the search field, the transcript and the buttons"),
    ("Up / Down, Shift+Up / Shift+Down", "Move through the transcript, select a range"),
    ("Double-click a line", "Edit it (as Ctrl+Shift+E)"),
    ("Esc", "Overlay: back to live (while reading back)"),
    ("Ctrl+L, then Delete", "Library: delete the selected session (Undo brings it back)"),
)


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what) for every action of `window` that has a shortcut, in menu order, once."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for action in window.findChildren(QAction):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        what = action.text().replace("&", "").rstrip("…").strip()
        if keys and what and what not in seen:
            seen.add(what)
            rows.append((keys, what))
    return rows + list(OTHER_KEYS)


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(560, 480)
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Keys", "What they do"])
        self.table.setAccessibleName("Keyboard shortcuts")
        for row, (keys, what) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(what))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.resizeColumnToContents(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
