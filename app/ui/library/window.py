"""The Library window: every saved session in a table (newest first), a search across all of
them, and the actions on one: open read-only, continue, export, rename, delete with undo (a
deleted session waits TRASH_DAYS days in the trash; Edit → Empty trash… removes it sooner).

It shows what it is given and emits what the user asked for; LibraryController does the
work, off the Qt thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from PySide6.QtCore import QModelIndex, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.services.library import TRASH_DAYS, SearchHit, SessionSummary
from app.ui.library.hit_delegate import HitLineDelegate
from app.ui.library.models import SearchHitModel, SessionTableModel

SEARCH_DELAY_MS = 200  # typing pauses this long before a search runs
UNDO_SHOWN_MS = 10_000


def _sessions(count: int) -> str:
    return f"{count} session{'' if count == 1 else 's'}"


def _table(parent: QWidget, name: str, description: str) -> QTableView:
    table = QTableView(parent)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.setAccessibleName(name)
    table.setAccessibleDescription(description)
    return table


class LibraryWindow(QMainWindow):
    open_requested = Signal(str)  # session id, to read
    hit_opened = Signal(object)  # SearchHit: its session, at its line
    continue_requested = Signal(str)
    export_requested = Signal(str)
    delete_requested = Signal(str)
    undo_requested = Signal()
    empty_trash_requested = Signal()
    search_requested = Signal(str)  # the words typed, once typing paused
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Library")  # Qt adds " — Captionist"
        self.resize(900, 560)
        self.sessions_model = SessionTableModel(self)
        self.hits_model = SearchHitModel(self)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(lambda: self.search_requested.emit(self.search.text()))
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(UNDO_SHOWN_MS)
        self._undo_timer.timeout.connect(lambda: self.undo_bar.hide())
        self.trash_box: QMessageBox | None = None  # Empty trash's question, while it waits
        self.trash_remove_button: QAbstractButton | None = None
        self._build_central()
        self._build_actions()
        self.set_undo_available(False)
        self._selection_changed()

    # -- construction ---------------------------------------------------------------------
    def _build_central(self) -> None:
        central = QWidget(self)
        layout = QVBoxLayout(central)
        row = QHBoxLayout()
        self.search = QLineEdit(central)
        self.search.setPlaceholderText("Search every session (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search every session")
        self.search.setAccessibleDescription("Lists the lines of any session with these words.")
        self.search.textChanged.connect(self._search_typed)
        self.search.returnPressed.connect(self._focus_list)
        row.addWidget(self.search, 1)
        self.progress = QProgressBar(central)
        self.progress.setRange(0, 0)  # busy: the first listing reads every journal once
        self.progress.setFixedWidth(120)
        self.progress.setFormat("Indexing…")
        self.progress.setAccessibleName("Indexing the sessions")
        self.progress.hide()
        row.addWidget(self.progress)
        layout.addLayout(row)
        self.note = QLabel(central)
        self.note.setAccessibleName("Library status")
        layout.addWidget(self.note)
        self.pages = QStackedWidget(central)
        self.table = _table(
            central, "Sessions", "Every saved session, newest first. F2 renames, Delete deletes."
        )
        self.table.setModel(self.sessions_model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked)
        header = self.table.horizontalHeader()
        for column, width in ((0, 190), (1, 70), (2, 170)):
            header.resizeSection(column, width)
        self.table.activated.connect(self._session_activated)
        self.hits = _table(
            central, "Search results", "Lines found; Enter opens the session at that line."
        )
        self.hits.setModel(self.hits_model)
        self.hits.setItemDelegateForColumn(SearchHitModel.TEXT, HitLineDelegate(self.hits))
        self.hits.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.hits.horizontalHeader()
        for column, width in ((0, 190), (1, 60), (2, 110)):
            header.resizeSection(column, width)
        self.hits.activated.connect(self._hit_activated)
        self.pages.addWidget(self.table)
        self.pages.addWidget(self.hits)
        layout.addWidget(self.pages, 1)
        for view in (self.table, self.hits):
            view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.undo_bar = QFrame(central)
        self.undo_bar.setFrameShape(QFrame.Shape.StyledPanel)
        bar = QHBoxLayout(self.undo_bar)
        self.undo_label = QLabel(self.undo_bar)
        self.undo_button = QPushButton("&Undo", self.undo_bar)
        self.undo_button.setAccessibleDescription(
            f"Brings the deleted session back from the trash (Ctrl+Z); it stays there "
            f"{TRASH_DAYS} days."
        )
        self.undo_button.clicked.connect(self.undo_requested.emit)
        bar.addWidget(self.undo_label, 1)
        bar.addWidget(self.undo_button)
        self.undo_bar.hide()
        layout.addWidget(self.undo_bar)
        buttons = QHBoxLayout()
        self.open_button = QPushButton("&Open", central)
        self.continue_button = QPushButton("&Continue this session", central)
        self.export_button = QPushButton("&Export…", central)
        self.delete_button = QPushButton("&Delete", central)
        for button, description in (
            (self.open_button, "Shows the session's transcript, read-only (Enter)."),
            (self.continue_button, "Loads it into the main window; the next Start adds to it."),
            (self.export_button, "Saves the session as text, subtitles, JSON or Markdown."),
            (
                self.delete_button,
                f"Moves the session to the trash for {TRASH_DAYS} days; Undo brings it back "
                "(Delete).",
            ),
        ):
            button.setAccessibleDescription(description)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.open_button.clicked.connect(lambda: self._with_selected(self.open_requested.emit))
        self.continue_button.clicked.connect(
            lambda: self._with_selected(self.continue_requested.emit)
        )
        self.export_button.clicked.connect(lambda: self._with_selected(self.export_requested.emit))
        self.delete_button.clicked.connect(lambda: self._with_selected(self.delete_requested.emit))
        layout.addLayout(buttons)
        self.setCentralWidget(central)

    def _action(self, text: str, shortcut: QKeySequence, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.setShortcut(shortcut)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        keys = QKeySequence.StandardKey
        self.export_action = self._action(
            "Export…", QKeySequence("Ctrl+E"), self.export_button.click
        )
        self.close_action = self._action("Close", QKeySequence(keys.Close), self.close)
        self.undo_action = self._action(
            "Undo delete", QKeySequence(keys.Undo), self.undo_requested.emit
        )
        self.rename_action = self._action("Rename…", QKeySequence("F2"), self.edit_title)
        self.delete_action = self._action(
            "Delete", QKeySequence(keys.Delete), self.delete_button.click
        )
        self.empty_trash_action = self._action(
            "Empty trash…", QKeySequence(), self.empty_trash_requested.emit
        )
        self.find_action = self._action("Find", QKeySequence(keys.Find), self._find)
        self.refresh_action = self._action(
            "Refresh", QKeySequence(keys.Refresh), self.refresh_requested.emit
        )
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction("Open read-only", self.open_button.click)
        file_menu.addAction("Continue this session", self.continue_button.click)
        for action in (self.export_action, self.refresh_action, self.close_action):
            file_menu.addAction(action)
        edit_menu = self.menuBar().addMenu("&Edit")
        for action in (self.undo_action, self.rename_action, self.delete_action):
            edit_menu.addAction(action)
        edit_menu.addAction(self.empty_trash_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.find_action)

    # -- user actions ---------------------------------------------------------------------
    def _search_typed(self, text: str) -> None:
        if not text.strip():
            self._search_timer.stop()
            self.pages.setCurrentWidget(self.table)
            self.note.setText(self._count_note())
            self._selection_changed()
            return
        self._search_timer.start()  # restarted by each key: one search once typing pauses

    def _focus_list(self) -> None:
        view = self.current_view()
        view.setFocus()
        if not view.currentIndex().isValid() and view.model().rowCount():
            view.selectRow(0)

    def _find(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _session_activated(self, index: QModelIndex) -> None:
        session = self.sessions_model.session_at(index.row())
        if session is not None:
            self.open_requested.emit(session.id)

    def _hit_activated(self, index: QModelIndex) -> None:
        hit = self.hits_model.hit_at(index.row())
        if hit is not None:
            self.hit_opened.emit(hit)

    def _with_selected(self, act: Callable[[str], object]) -> None:
        session_id = self.selected_session_id()
        if session_id is not None:
            act(session_id)

    def edit_title(self) -> None:
        """F2: rename the selected session in place."""
        if self.pages.currentWidget() is not self.table:
            return
        row = self.table.currentIndex().row()
        if row >= 0:
            index = self.sessions_model.index(row, SessionTableModel.TITLE)
            self.table.setCurrentIndex(index)
            self.table.edit(index)

    def _selection_changed(self) -> None:
        chosen = self.selected_session_id() is not None
        for widget in (self.open_button, self.continue_button, self.export_button):
            widget.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)
        self.export_action.setEnabled(chosen)
        self.delete_action.setEnabled(chosen)

    # -- what is shown --------------------------------------------------------------------
    def current_view(self) -> QTableView:
        return self.hits if self.pages.currentWidget() is self.hits else self.table

    def selected_session_id(self) -> str | None:
        view = self.current_view()
        rows = view.selectionModel().selectedRows()
        if not rows:
            return None
        if view is self.hits:
            hit = self.hits_model.hit_at(rows[0].row())
            return hit.session_id if hit else None
        session = self.sessions_model.session_at(rows[0].row())
        return session.id if session else None

    def select_session(self, session_id: str) -> None:
        row = self.sessions_model.row_of(session_id)
        if row is not None:
            self.table.selectRow(row)

    def set_indexing(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        if busy:
            self.note.setText("Indexing the saved sessions…")

    def show_sessions(self, sessions: Sequence[SessionSummary]) -> None:
        chosen = self.selected_session_id() if self.pages.currentWidget() is self.table else None
        self.sessions_model.set_sessions(sessions)
        if chosen is not None:
            self.select_session(chosen)
        if self.pages.currentWidget() is self.table:
            self.note.setText(self._count_note())
        self._selection_changed()

    def remove_session(self, session_id: str) -> None:
        self.sessions_model.remove(session_id)
        if self.pages.currentWidget() is self.table:
            self.note.setText(self._count_note())
        self._selection_changed()

    def _count_note(self) -> str:
        count = self.sessions_model.rowCount()
        return f"{count} saved session{'' if count == 1 else 's'}" if count else "No saved sessions"

    def show_hits(self, hits: Sequence[SearchHit], limit: int, typed: str = "") -> None:
        """A search's hits, the words `typed` for it highlighted in their lines."""
        titles = {s.id: s.title for s in self.sessions_model.sessions}
        self.hits_model.set_hits(hits, titles, typed)
        self.pages.setCurrentWidget(self.hits)
        sessions = len({hit.session_id for hit in hits})
        if not hits:
            self.note.setText("No line has these words")
        elif len(hits) >= limit:
            self.note.setText(f"The first {len(hits)} lines found: type more words to narrow")
        else:
            lines = f"{len(hits)} line{'' if len(hits) == 1 else 's'}"
            self.note.setText(f"{lines} in {sessions} session{'' if sessions == 1 else 's'}")
        self._selection_changed()

    def show_search_problem(self, reason: str) -> None:
        self.hits_model.set_hits([], {})
        self.pages.setCurrentWidget(self.hits)
        self.note.setText(f"Search is not available: {reason}")

    def searching(self) -> bool:
        return bool(self.search.text().strip())

    def show_deleted(self, title: str) -> None:
        """The non-modal undo offer, for a few seconds (Edit → Undo stays)."""
        self.undo_label.setText(f"Session deleted: “{title}” (in the trash for {TRASH_DAYS} days)")
        self.undo_bar.show()
        self._undo_timer.start()

    def set_undo_available(self, available: bool) -> None:
        self.undo_action.setEnabled(available)
        if not available:
            self.undo_bar.hide()

    def notice(self, text: str) -> None:
        self.statusBar().showMessage(text, 10_000)

    async def confirm_empty_trash(self, count: int) -> bool:
        """Edit → Empty trash…: whether the user agrees to remove the `count` sessions in the
        trash for good. Asked without blocking the loop (a sheet on this window); nothing is
        asked of an empty trash."""
        if count <= 0:
            self.notice("The trash is empty.")
            return False
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Empty trash?",
            f"Remove the {_sessions(count)} in the trash for good?",
            parent=self,
        )
        box.setInformativeText(
            f"Deleted sessions stay in the trash {TRASH_DAYS} days, where Undo can bring them "
            "back. Removed now, they cannot be brought back."
        )
        remove = box.addButton(f"Remove {_sessions(count)}", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def answered(button: QAbstractButton | None) -> None:
            if not answer.done():
                answer.set_result(button is remove)

        box.buttonClicked.connect(answered)
        box.finished.connect(lambda _code: answered(None))
        self.trash_box, self.trash_remove_button = box, remove
        box.open()  # window-modal: the library waits, captioning does not
        try:
            return await answer
        finally:
            self.trash_box = self.trash_remove_button = None
            box.deleteLater()

    def trash_emptied(self, count: int) -> None:
        """What was deleted is gone for good: nothing left to undo."""
        self.set_undo_available(False)
        self.notice(f"Removed {_sessions(count)} from the trash for good.")
