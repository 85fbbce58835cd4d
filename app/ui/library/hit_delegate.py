"""The library's hit table draws each found line with the searched words highlighted, from a
little before the first of them when the line is long, elided at the cell's end like any other
cell (the tooltip has it whole)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, Qt
from PySide6.QtGui import QPainter, QPalette, QTextLayout
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.ui.text_highlight import clipped, highlight_formats

# The (start, length) UTF-16 ranges of the searched words in a cell's shown text.
HIT_RANGES_ROLE = Qt.ItemDataRole.UserRole + 1
_PAD = 2  # pixels between the cell's edge and its text


class HitLineDelegate(QStyledItemDelegate):
    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        ranges = index.data(HIT_RANGES_ROLE)
        if not ranges:
            super().paint(painter, option, index)
            return
        cell = QStyleOptionViewItem(option)
        self.initStyleOption(cell, index)
        text, cell.text = cell.text, ""
        style = cell.widget.style() if cell.widget else None
        if style is None:
            super().paint(painter, option, index)
            return
        # The cell's background, selection and focus as the style draws them; then the words.
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, cell, painter, cell.widget)
        room = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, cell, cell.widget)
        width = room.width() - 2 * _PAD
        if cell.fontMetrics.horizontalAdvance(text) > width:  # elided as the other cells are
            text = cell.fontMetrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
            ranges = clipped(ranges, len(text.encode("utf-16-le", "surrogatepass")) // 2 - 1)
        layout = QTextLayout(text, cell.font)
        layout.beginLayout()
        line = layout.createLine()
        line.setLineWidth(1e6)  # one line: the text fits, elided if need be
        layout.endLayout()
        selected = bool(cell.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setClipRect(room)
        painter.setPen(cell.palette.color(role))
        top = room.top() + (room.height() - line.height()) / 2
        layout.draw(painter, QPointF(room.left() + _PAD, top), highlight_formats(ranges))
        painter.restore()
