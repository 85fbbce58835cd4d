"""The transcript as a Qt list model: one row per turn (app/domain/turns.py).

Finals are appended in the order heard and never rewritten; a final that continues the last
turn extends its row. A correction replaces a final's words and keeps the words heard.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from app.domain.edits import EditKey, edit_key, with_edit
from app.domain.export import _short_clock
from app.domain.transcript import Segment, join_utterances
from app.domain.turns import as_turn, starts_turn, turn_starts, turn_text

SegmentRole = Qt.ItemDataRole.UserRole + 1  # the turn as one Segment
RowRole = Qt.ItemDataRole.UserRole + 2  # what the row shows (a ShownTurn), for the delegate
SearchRole = Qt.ItemDataRole.UserRole + 3  # the name shown and the words: what search looks in
WrapRole = Qt.ItemDataRole.UserRole + 4  # (words, corrected?): all a row's height depends on
Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


@dataclass(frozen=True)
class ShownTurn:
    clock: str  # when the turn began, m:ss
    label: str  # whose it is (its colour); "" for a marker for lost audio
    who: str  # the label as shown: the user's name for it, if any
    text: str  # the words, as corrected
    edited: bool  # some of the words were corrected


class TranscriptModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._finals: list[Segment] = []
        self._heads: list[int] = []  # the index in _finals of each row's first final
        self._texts: list[str] = []  # each row's words
        self._edited: list[bool] = []  # some of each row's words were corrected
        self._display: list[str] = []  # each row as one line: copied, read out, searched
        self._names: Mapping[str, str] = {}  # label -> the user's name for it
        self._by_key: dict[EditKey, int] = {}  # a final's index, for corrections
        self._sealed = False  # the last row is a restored session's: a new final starts a row

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._heads)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = index.row()
        if not index.isValid() or not 0 <= row < len(self._heads):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display[row]
        if role == WrapRole:  # asked for every row at each layout: kept cheap
            return self._texts[row], self._edited[row]
        if role == RowRole:
            head = self._finals[self._heads[row]]
            shown = self.shown(head.source) if not head.gap_s else ""
            label = head.source if not head.gap_s else ""
            clock = _short_clock(head.start)
            return ShownTurn(clock, label, shown, self._texts[row], self._edited[row])
        if role == SearchRole:
            return f"{self.shown(self._finals[self._heads[row]].source)}\n{self._texts[row]}"
        if role == SegmentRole:
            return self.turn(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            turn, heard = self.turn(row), self.heard(row)
            times = f"{turn.start:.2f}-{turn.end:.2f} s"
            return f"{times}\nCorrected. Heard as: {heard}" if heard else times
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            heard = self.heard(row)
            return f"corrected; heard as: {heard}" if heard else ""
        return None

    def row_of_final(self, index: int) -> int:
        """The row (turn) that shows final number `index` (in the order they came)."""
        return max(0, bisect_right(self._heads, index) - 1)

    def parts(self, row: int) -> list[Segment]:
        """The finals of row `row`, in the order heard."""
        stop = self._heads[row + 1] if row + 1 < len(self._heads) else len(self._finals)
        return self._finals[self._heads[row] : stop]

    def turn(self, row: int) -> Segment:
        return as_turn(self.parts(row))

    def heard(self, row: int) -> str:
        """Row `row`'s words as heard, if some were corrected ("" if none were)."""
        if not self._edited[row]:
            return ""
        parts = self.parts(row)
        return " ".join(w for w in ((p.original or p.text).strip() for p in parts) if w)

    def append(self, segment: Segment) -> None:
        index = len(self._finals)
        self._finals.append(segment)
        self._by_key[edit_key(segment)] = index
        if self._heads and not self._sealed:
            head, previous = self._finals[self._heads[-1]], self._finals[index - 1]
            if not starts_turn(head, previous, segment):
                self._refresh(len(self._heads) - 1)
                return
        self._sealed = False
        row = len(self._heads)
        self.beginInsertRows(QModelIndex(), row, row)
        self._heads.append(index)
        self._texts.append(turn_text([segment]))
        self._edited.append(bool(segment.original))
        self._display.append(self._render(row))
        self.endInsertRows()

    def extend(self, segments: Sequence[Segment]) -> None:
        """Add a restored session's finals in one insert, as turns of their own."""
        if not segments:
            return
        first, base = len(self._heads), len(self._finals)
        heads = [base + start for start in turn_starts(segments)]
        self.beginInsertRows(QModelIndex(), first, first + len(heads) - 1)
        self._finals.extend(segments)
        self._by_key.update((edit_key(s), base + n) for n, s in enumerate(segments))
        self._heads.extend(heads)
        for row in range(first, len(self._heads)):
            parts = self.parts(row)
            self._texts.append(turn_text(parts))
            self._edited.append(any(part.original for part in parts))
            self._display.append(self._render(row))
        self.endInsertRows()
        self._sealed = True

    def clear(self) -> None:
        self.beginResetModel()
        self._finals, self._heads, self._texts, self._display = [], [], [], []
        self._edited = []
        self._by_key.clear()
        self._sealed = False
        self.endResetModel()

    @property
    def segments(self) -> list[Segment]:
        """The utterances, as corrected: what an export writes."""
        return join_utterances(self._finals)

    @property
    def finals(self) -> list[Segment]:
        return list(self._finals)

    def correct(self, final: Segment, text: str) -> Segment | None:
        """Show the final `final` (its label and start) reading `text`; the words heard are
        kept. Returns the corrected final (None: no such final, the panel was cleared)."""
        index = self._by_key.get(edit_key(final))
        if index is None or self._finals[index].gap_s:
            return None
        self._finals[index] = corrected = with_edit(self._finals[index], text)
        self._refresh(bisect_right(self._heads, index) - 1)
        return corrected

    def set_names(self, names: Mapping[str, str]) -> None:
        """Show each renamed label by its name, in every row (the finals keep the label)."""
        self._names = dict(names)
        self._display = [self._render(row) for row in range(len(self._heads))]
        if self._heads:
            self.dataChanged.emit(self.index(0), self.index(len(self._heads) - 1))

    def shown(self, label: str) -> str:
        return self._names.get(label, label)

    def _refresh(self, row: int) -> None:
        parts = self.parts(row)
        self._texts[row] = turn_text(parts)
        self._edited[row] = any(part.original for part in parts)
        self._display[row] = self._render(row)
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def _render(self, row: int) -> str:
        """The row as a TXT export writes a line: what Copy puts on the clipboard."""
        head = self._finals[self._heads[row]]
        who = self.shown(head.source)
        label = f"{who}: " if who and not head.gap_s else ""
        return f"[{_short_clock(head.start)}] {label}{self._texts[row]}"


class TranscriptFilter(QSortFilterProxyModel):
    """Case-insensitive search over the names shown and the words (app/ui/transcript/view.py
    highlights the hits)."""

    def __init__(self, source: TranscriptModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSourceModel(source)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterRole(SearchRole)
