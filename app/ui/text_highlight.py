"""Search hits shown in text: the format ranges that paint them, in the offsets Qt counts.

Used by the transcript panel (app/ui/transcript/view.py) and the library's hit table
(app/ui/library/hit_delegate.py), so a hit looks the same in both.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QColor, QTextCharFormat, QTextLayout

HIGHLIGHT = "#ffe14d"  # a search hit: black on yellow reads on a light or a dark palette


def utf16_ranges(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, end) character offsets as (start, length) in UTF-16 code units, as Qt counts
    them (an emoji is two)."""
    if text.isascii():
        return [(start, end - start) for start, end in spans]

    def units(position: int) -> int:
        # surrogatepass: a lone surrogate (from a JSON journal) is one unit, not an error
        return len(text[:position].encode("utf-16-le", "surrogatepass")) // 2

    return [(units(start), units(end) - units(start)) for start, end in spans]


def clipped(ranges: Sequence[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    """(start, length) ranges cut to the first `limit` UTF-16 units (the part of an elided
    text still shown); those wholly past it dropped."""
    return [(start, min(length, limit - start)) for start, length in ranges if start < limit]


def highlight_formats(ranges: Sequence[tuple[int, int]]) -> list[QTextLayout.FormatRange]:
    """Black on yellow for each (start, length) range of UTF-16 code units."""
    formats = []
    for start, length in ranges:
        hit = QTextLayout.FormatRange()
        hit.start, hit.length = start, length
        hit.format = QTextCharFormat()
        hit.format.setBackground(QColor(HIGHLIGHT))
        hit.format.setForeground(QColor("#000000"))
        formats.append(hit)
    return formats
