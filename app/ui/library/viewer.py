"""A saved session's transcript, read-only, in a window of its own: its lines with the
speakers' names, a search hit's line selected and scrolled to, and Export / Continue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.domain.library import format_duration
from app.services.library import SessionContents
from app.ui.library.models import DATE_FORMAT
from app.ui.transcript.model import TranscriptModel

LAYOUT_POLL_MS = 10
LAYOUT_POLLS = 3000  # 30 s: a very long session laid out on a slow machine


# A sentence split by the other side's words spans a few lines at most.
HIT_LOOKAHEAD_ROWS = 6


class SessionViewer(QMainWindow):
    continue_requested = Signal(str)  # session id
    export_requested = Signal(str)

    def __init__(
        self, contents: SessionContents, started: datetime, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session_id = contents.id
        self.setWindowTitle(f"{contents.title} ({started:%d %b %Y}): read-only")
        self.resize(720, 520)
        self.model = TranscriptModel(self)
        self.model.extend(contents.segments)  # grouped into turns as the main window does
        self.model.set_names(contents.names)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        self.heading = QLabel(central)
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        self.heading.setText(f"{contents.title}\n{self._facts(contents, started)}")
        self.heading.setAccessibleName("Session")
        layout.addWidget(self.heading)
        self.view = QListView(central)
        self.view.setModel(self.model)
        self.view.setWordWrap(True)
        self.view.setUniformItemSizes(False)
        # As the main window: a long meeting is laid out in batches, never in one stall.
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(200)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setAccessibleName("Saved transcript")
        self.view.setAccessibleDescription("The session's lines, read-only. Ctrl+C copies.")
        layout.addWidget(self.view, 1)
        buttons = QHBoxLayout()
        self.continue_button = QPushButton("&Continue this session", central)
        self.continue_button.setAccessibleDescription(
            "Loads it into the main window; the next Start adds to it."
        )
        self.continue_button.clicked.connect(lambda: self.continue_requested.emit(self.session_id))
        self.export_button = QPushButton("&Export…", central)
        self.export_button.clicked.connect(lambda: self.export_requested.emit(self.session_id))
        buttons.addWidget(self.continue_button)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.setCentralWidget(central)
        copy = QAction("Copy", self)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.triggered.connect(self.copy_selection)
        close = QAction("Close", self)
        close.setShortcut(QKeySequence.StandardKey.Close)
        close.triggered.connect(self.close)
        self.addActions([copy, close])
        self._wanted_row: int | None = None
        self._polls = 0
        self._scrolled = False
        self._layout_timer = QTimer(self)
        self._layout_timer.setInterval(LAYOUT_POLL_MS)
        self._layout_timer.timeout.connect(self._scroll_when_laid_out)

    @staticmethod
    def _facts(contents: SessionContents, started: datetime) -> str:
        lines = [u for u in contents.utterances if not u.gap_s]
        length = max((u.end for u in lines), default=0.0) - min((u.start for u in lines), default=0)
        speakers = dict.fromkeys(contents.names.get(u.source, u.source) for u in lines if u.source)
        parts = [started.strftime(DATE_FORMAT), format_duration(length), ", ".join(speakers)]
        return " · ".join(part for part in parts if part)

    def select_final(self, final: int, words: Sequence[str] = ()) -> None:
        """Select the line that shows final number `final` (the first of a search hit's
        sentence) and scroll to it. With the searched `words`: the first line from there that
        holds them all, since the other side may have spoken in the middle of the sentence."""
        row = self.model.row_of_final(final)
        wanted = [word.lower() for word in words]
        for candidate in range(row, min(row + HIT_LOOKAHEAD_ROWS, self.model.rowCount())):
            text = str(self.model.data(self.model.index(candidate))).lower()
            if wanted and all(word in text for word in wanted):
                row = candidate
                break
        self.select_row(row)

    def select_row(self, row: int) -> None:
        """Select line `row` (an index into the session's utterances) and scroll to it once
        the list has laid it out."""
        if not 0 <= row < self.model.rowCount():
            return
        index = self.model.index(row)
        self.view.setCurrentIndex(index)
        self.view.setFocus()
        self._wanted_row, self._polls, self._scrolled = row, 0, False
        self._scroll_when_laid_out()
        if self._wanted_row is not None:
            self._layout_timer.start()

    def _scroll_when_laid_out(self) -> None:
        """Scroll once every row is laid out (a row's place moves until then), and again
        until the row is in view: the first layout pass may change the list's width."""
        row = self._wanted_row
        if row is None:
            self._layout_timer.stop()
            return
        self._polls += 1
        last = self.model.index(self.model.rowCount() - 1)
        if self.view.visualRect(last).isValid() or self._polls > LAYOUT_POLLS:
            if self._polls > LAYOUT_POLLS or (self._scrolled and self.row_shown(row)):
                self._wanted_row = None
                self._layout_timer.stop()
            else:
                self._scrolled = True
                self.view.scrollTo(
                    self.model.index(row), QAbstractItemView.ScrollHint.PositionAtCenter
                )

    def current_row(self) -> int:
        return self.view.currentIndex().row()

    def row_shown(self, row: int) -> bool:
        """Is line `row` inside the visible part of the list?"""
        rect = self.view.visualRect(self.model.index(row))
        return rect.isValid() and self.view.viewport().rect().intersects(rect)

    def copy_selection(self) -> None:
        rows = sorted(self.view.selectionModel().selectedRows(), key=QModelIndex.row)
        lines = [str(self.model.data(index)) for index in rows]
        if lines:
            QGuiApplication.clipboard().setText("\n".join(lines))

    def notice(self, text: str) -> None:
        self.statusBar().showMessage(text, 10_000)
