"""The transcript as a Qt list model: final segments only, appended, never rewritten."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from app.domain.export import _short_clock
from app.domain.transcript import Segment

SegmentRole = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


class TranscriptModel(QAbstractListModel):
    """One row per utterance: finals of an open utterance extend its row (their words never
    change, more are added) until the one with `speech_final` closes it."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._segments: list[Segment] = []
        self._display: list[str] = []  # rendered once: search filters 20,000 rows by it
        self._open_rows: dict[str, int] = {}  # source -> row of its open utterance
        self._names: Mapping[str, str] = {}  # label -> the user's name for it

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._segments)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._segments):
            return None
        segment = self._segments[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{segment.start:.2f}-{segment.end:.2f} s"
        if role == SegmentRole:
            return segment
        return None

    def append(self, segment: Segment) -> None:
        row = self._open_rows.get(segment.source)
        if row is not None:
            head = self._segments[row]
            self._segments[row] = merged = Segment(
                f"{head.text.strip()} {segment.text.strip()}",
                head.start,
                segment.end,
                head.source,
                True,
                segment.speech_final,
            )
            self._display[row] = self._render(merged)
            index = self.index(row)
            self.dataChanged.emit(index, index)
        else:
            row = len(self._segments)
            self.beginInsertRows(QModelIndex(), row, row)
            self._segments.append(segment)
            self._display.append(self._render(segment))
            self.endInsertRows()
        if segment.speech_final:
            self._open_rows.pop(segment.source, None)
        else:
            self._open_rows[segment.source] = row

    def extend(self, segments: list[Segment]) -> None:
        """Add closed utterances in one insert (restoring a journal, a long meeting)."""
        if not segments:
            return
        self._open_rows.clear()
        first = len(self._segments)
        self.beginInsertRows(QModelIndex(), first, first + len(segments) - 1)
        self._segments.extend(segments)
        self._display.extend(self._render(s) for s in segments)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._segments = []
        self._display = []
        self._open_rows.clear()
        self.endResetModel()

    @property
    def segments(self) -> list[Segment]:
        return list(self._segments)

    def set_names(self, names: Mapping[str, str]) -> None:
        """Show each renamed label by its name, in every row (the segments keep the label)."""
        self._names = dict(names)
        self._display = [self._render(s) for s in self._segments]
        if self._segments:
            self.dataChanged.emit(self.index(0), self.index(len(self._segments) - 1))

    def shown(self, label: str) -> str:
        return self._names.get(label, label)

    def _render(self, segment: Segment) -> str:
        who = self._names.get(segment.source, segment.source)
        label = f"{who}: " if who else ""
        return f"[{_short_clock(segment.start)}]  {label}{segment.text.strip()}"


class TranscriptFilter(QSortFilterProxyModel):
    """Case-insensitive search over the displayed text."""

    def __init__(self, source: TranscriptModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterRole(Qt.ItemDataRole.DisplayRole)
