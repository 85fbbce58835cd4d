"""The library window's two tables as Qt models: the sessions (newest first, title editable)
and a search's hits. Both only show what the library gave them; nothing here reads a file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from app.domain.library import format_duration
from app.domain.search_query import matched_spans, snippet
from app.services.library import SearchHit, SessionState, SessionSummary
from app.ui.library.hit_delegate import HIT_RANGES_ROLE
from app.ui.text_highlight import utf16_ranges

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
DATE_FORMAT = "%a %d %b %Y, %H:%M"
STATE_NOTE = {
    SessionState.RECORDING: " (recording)",
    SessionState.CRASHED: " (not closed)",
    SessionState.CLOSED: "",
}
CURRENT_NOTE = " (current)"  # the session in the main window


Row = TypeVar("Row")


class RowsModel(QAbstractTableModel, Generic[Row]):
    """A table with one row per item and fixed headers: what the two tables share."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def item_at(self, row: int) -> Row | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def _set_rows(self, rows: list[Row]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()


class SessionTableModel(RowsModel[SessionSummary]):
    """One row per session, newest first. Editing a title does not change the row: it asks
    (`title_edited`), and the row shows the new title once the journal has it."""

    DATE, DURATION, SPEAKERS, TITLE = range(4)
    HEADERS = ("Date", "Duration", "Speakers", "Title")
    title_edited = Signal(str, str)  # session id, the title typed

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.current_id: str | None = None  # the app's current session: it writes it

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        session = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == self.DATE:
                note = CURRENT_NOTE if session.id == self.current_id else STATE_NOTE[session.state]
                return session.started.strftime(DATE_FORMAT) + note
            if column == self.DURATION:
                return format_duration(session.duration_s)
            if column == self.SPEAKERS:
                return ", ".join(session.speakers)
            return session.title
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.TITLE:
                return f"{session.title}\n(F2 or double-click to rename)"
            return f"{session.utterances} lines, {session.id}"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == self.TITLE:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or index.column() != self.TITLE:
            return False
        session = self._rows[index.row()]
        typed = str(value).strip()
        if typed != session.title or (not typed and session.custom_title):
            self.title_edited.emit(session.id, typed)  # empty: back to the first words
        return False  # shown once the journal holds it

    # -- what the library said ----------------------------------------------------------------
    def set_sessions(self, sessions: Sequence[SessionSummary]) -> None:
        """`sessions` as the library lists them (oldest first): shown newest first."""
        self._set_rows(list(reversed(sessions)))

    def update(self, summary: SessionSummary) -> None:
        row = self.row_of(summary.id)
        if row is not None:
            self._rows[row] = summary
            self.dataChanged.emit(self.index(row, 0), self.index(row, self.TITLE))

    def remove(self, session_id: str) -> None:
        row = self.row_of(session_id)
        if row is not None:
            self.beginRemoveRows(_ROOT, row, row)
            del self._rows[row]
            self.endRemoveRows()

    def row_of(self, session_id: str) -> int | None:
        for row, session in enumerate(self._rows):
            if session.id == session_id:
                return row
        return None

    def session_at(self, row: int) -> SessionSummary | None:
        return self.item_at(row)

    @property
    def sessions(self) -> list[SessionSummary]:
        return list(self._rows)


class SearchHitModel(RowsModel[SearchHit]):
    """A search's hits in session order, then line order, as the library found them."""

    SESSION, TIME, SPEAKER, TEXT = range(4)
    HEADERS = ("Session", "Time", "Speaker", "Line")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._titles: dict[str, str] = {}
        self._typed = ""
        self._shown: dict[int, tuple[str, list[tuple[int, int]]]] = {}

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        hit = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.SESSION:
                return hit.started.strftime(DATE_FORMAT)
            if column == self.TIME:
                return format_duration(hit.start_s)
            if column == self.SPEAKER:
                return hit.speaker
            return self._shown_line(index.row())[0]
        if role == HIT_RANGES_ROLE and column == self.TEXT:
            text, spans = self._shown_line(index.row())
            return utf16_ranges(text, spans)
        if role == Qt.ItemDataRole.ToolTipRole:
            title = self._titles.get(hit.session_id, hit.session_id)
            return f"{title}\n{hit.text}\n(Enter or double-click to open the session here)"
        return None

    def set_hits(self, hits: Sequence[SearchHit], titles: dict[str, str], typed: str = "") -> None:
        """The hits of a search for `typed` (the words highlighted in each line)."""
        self._titles, self._typed, self._shown = titles, typed, {}
        self._set_rows(list(hits))

    def _shown_line(self, row: int) -> tuple[str, list[tuple[int, int]]]:
        """A hit's line as shown (from just before its first searched word) and where those
        words are in it; worked out once per row."""
        if row not in self._shown:
            text = self._rows[row].text
            self._shown[row] = snippet(text, matched_spans(text, self._typed))
        return self._shown[row]

    def hit_at(self, row: int) -> SearchHit | None:
        return self.item_at(row)

    @property
    def hits(self) -> list[SearchHit]:
        return list(self._rows)
