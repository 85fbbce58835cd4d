"""The transcript panel: one row per turn in three columns, the time it began, who spoke (a
chip in the label's colour, app/ui/transcript/label_colours.py) and the words, with search hits
highlighted.

A QListView with a delegate, not a table: rows are word-wrapped paragraphs of any height,
and a list lays them out in batches from the event loop (20,000 rows stay responsive), where
a QTableView sizes every row to its contents at once. Heights are cached per text and width:
a new row makes the list lay out every row again, and it then costs a dict lookup each.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QTextCharFormat, QTextLayout
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from app.ui.text_highlight import highlight_formats, utf16_ranges
from app.ui.transcript.label_colours import ink_on, label_colour
from app.ui.transcript.model import RowRole, ShownTurn, WrapRole

_PAD = 4  # pixels around and between the columns
_EDITED = " (corrected)"
Index = QModelIndex | QPersistentModelIndex


def highlight_ranges(text: str, query: str) -> list[tuple[int, int]]:
    """Every case-insensitive occurrence of `query` in `text`, as (start, length) in UTF-16
    code units, as Qt counts them."""
    if not query:
        return []
    found = re.finditer(re.escape(query), text, re.IGNORECASE)
    return utf16_ranges(text, [(m.start(), m.end()) for m in found])


class TranscriptDelegate(QStyledItemDelegate):
    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self.view = view
        self.query = ""
        self._heights: dict[tuple[str, bool, int], int] = {}
        self._font: QFont | None = None
        self._time_width = self._label_width = 0

    # -- geometry ---------------------------------------------------------------------------
    def _columns(self, option: QStyleOptionViewItem) -> tuple[int, int]:
        """Widths of the time and label columns (measured once per font)."""
        if option.font != self._font:  # another font: every cached height is wrong too
            self._font = QFont(option.font)
            self._heights.clear()
            metrics = option.fontMetrics
            self._time_width = metrics.horizontalAdvance("0:00:00") + 2 * _PAD
            self._label_width = metrics.horizontalAdvance("Speaker 00") * 6 // 5 + 4 * _PAD
        return self._time_width, self._label_width

    def _text_width(self, option: QStyleOptionViewItem) -> int:
        time_width, label_width = self._columns(option)
        return max(80, self.view.viewport().width() - time_width - label_width - 2 * _PAD)

    def _layout(self, text: str, font: QFont, width: int) -> tuple[QTextLayout, int]:
        layout = QTextLayout(text, font)
        option = layout.textOption()
        option.setWrapMode(option.WrapMode.WrapAtWordBoundaryOrAnywhere)
        layout.setTextOption(option)
        layout.beginLayout()
        height = 0.0
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            line.setPosition(QPointF(0, height))
            height += line.height()
        layout.endLayout()
        return layout, int(height + 0.999)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        # Asked for every row at each layout of the list: a dict lookup once a row is known.
        wrap: tuple[str, bool] | None = index.data(WrapRole)
        if wrap is None:
            return super().sizeHint(option, index)
        width = self._text_width(option)
        height = self._heights.get((*wrap, width))
        if height is None:
            text, edited = wrap
            height = self._layout(text + (_EDITED if edited else ""), option.font, width)[1]
            if len(self._heights) > 100_000:  # widths of a window resized many times
                self._heights.clear()
            self._heights[(*wrap, width)] = height
        chip = option.fontMetrics.height() + 2
        return QSize(self.view.viewport().width(), max(height, chip) + 2 * _PAD)

    # -- painting ---------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        shown: ShownTurn | None = index.data(RowRole)
        if shown is None:
            super().paint(painter, option, index)
            return
        style = option.widget.style() if option.widget else self.view.style()
        panel = QStyle.PrimitiveElement.PE_PanelItemViewItem  # selection, hover, focus
        style.drawPrimitive(panel, option, painter, option.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        ink = option.palette.color(role)
        rect, line_height = option.rect, option.fontMetrics.height()
        time_width, label_width = self._columns(option)
        left, top = rect.left(), rect.top() + _PAD
        painter.save()
        painter.setPen(ink)
        painter.drawText(QRect(left + _PAD, top, time_width, line_height), 0, shown.clock)
        if shown.label:
            chip = QRect(left + time_width, top - 1, label_width - 2 * _PAD, line_height + 2)
            self._paint_chip(painter, option.font, shown, chip)
        text = shown.text + (_EDITED if shown.edited else "")
        layout = self._layout(text, option.font, self._text_width(option))[0]
        layout.draw(painter, QPointF(left + time_width + label_width, top), self._formats(shown))
        painter.restore()

    def _paint_chip(self, painter: QPainter, font: QFont, shown: ShownTurn, chip: QRect) -> None:
        fill = label_colour(shown.label)
        bold = QFont(font)
        bold.setBold(True)
        painter.save()  # its own pen, brush and font: the words after it keep the row's
        painter.setFont(bold)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(fill))
        painter.drawRoundedRect(chip, 4, 4)
        painter.setPen(QColor(ink_on(fill)))
        room = chip.adjusted(_PAD, 0, -_PAD, 0)
        elide = Qt.TextElideMode.ElideRight  # a long name: the tooltip has it all
        name = painter.fontMetrics().elidedText(shown.who, elide, room.width())
        painter.drawText(room, Qt.AlignmentFlag.AlignVCenter, name)
        painter.restore()

    def _formats(self, shown: ShownTurn) -> list[QTextLayout.FormatRange]:
        formats = highlight_formats(highlight_ranges(shown.text, self.query))
        if shown.edited:
            marker = QTextLayout.FormatRange()
            marker.start = len(shown.text.encode("utf-16-le")) // 2
            marker.length = len(_EDITED)
            marker.format = QTextCharFormat()
            marker.format.setFontItalic(True)
            formats.append(marker)
        return formats


class TranscriptView(QListView):
    """The panel, following the newest caption unless the user scrolled back to read."""

    following_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._follow = True
        self._scroll_timer = QTimer(self)
        self._scroll_timer.setSingleShot(True)
        self._scroll_timer.setInterval(100)
        self._scroll_timer.timeout.connect(self._scroll_to_live)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.delegate = TranscriptDelegate(self)
        self.setItemDelegate(self.delegate)
        self.setUniformItemSizes(False)
        # Lay rows out in batches from the event loop: a long meeting (20,000 rows) would
        # otherwise re-lay every row on each append.
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setResizeMode(QListView.ResizeMode.Adjust)  # re-wrap the rows at a new width
        # Always there: a scroll bar that came and went would change the width rows wrap at.
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

    def set_query(self, query: str) -> None:
        """Highlight `query` wherever it is in the rows shown."""
        self.delegate.query = query
        self.viewport().update()

    # -- autoscroll -------------------------------------------------------------------------
    @property
    def following(self) -> bool:
        return self._follow

    def follow_live(self) -> None:
        self._follow = True
        self.following_changed.emit(True)
        self.scrollToBottom()

    def rowsInserted(self, parent: Index, start: int, end: int) -> None:
        super().rowsInserted(parent, start, end)
        self._new_words()

    def dataChanged(self, top_left: Index, bottom_right: Index, roles: Any = ()) -> None:
        super().dataChanged(top_left, bottom_right, roles)
        self._new_words()  # the last turn goes on

    def _new_words(self) -> None:
        # Scrolling lays out every row: once per burst, not once per row (20,000 rows
        # appended with a scroll each took minutes; coalesced, well under a second).
        if self._follow and not self._scroll_timer.isActive():
            self._scroll_timer.start()

    def _scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - 4
        self.following_changed.emit(self._follow)

    def _scroll_to_live(self) -> None:
        if self._follow:
            self.scrollToBottom()
