"""Caption words laid out in lines for the overlay, and which old words to let go.

No Qt here: the overlay passes the width of a word in its font. Lines are filled greedily from
a given first word, so the lines after a line break depend only on the words after it: words
are let go a whole line at a time, and the lines still kept do not change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Token:
    text: str
    final: bool
    label: bool = False  # a source label such as "Others:"


def wrap(
    tokens: Sequence[Token], advance: Callable[[str], int], space: int, width: int
) -> list[list[Token]]:
    """`tokens` in lines at most `width` wide (a word wider than that gets a line of its own)."""
    lines: list[list[Token]] = []
    used = 0
    for token in tokens:
        length = advance(token.text)
        if not lines or used + space + length > width:
            lines.append([token])
            used = length
        else:
            lines[-1].append(token)
            used += space + length
    return lines


def whole_lines_over(lines: Sequence[Sequence[Token]], excess: int) -> int:
    """How many words the first lines hold that make up at least `excess` words."""
    dropped = 0
    for line in lines:
        if dropped >= excess:
            break
        dropped += len(line)
    return dropped


def farthest_back(lines: Sequence[Sequence[Token]], shown: int) -> int:
    """How many lines a reader can step back from the end of `lines`, `shown` lines at a time,
    until the first line is at the top. An empty last line stands for a live view with nothing
    up (after a fade): one step back then shows the last words even if they would all fit."""
    most = len(lines) - shown
    if lines and not lines[-1] and len(lines) > 1:
        most = max(most, 1)
    return max(0, most)


def lines_back(lines: Sequence[list[Token]], shown: int, back: int) -> list[list[Token]]:
    """The `shown` lines that end `back` lines before the end of `lines`."""
    end = len(lines) - back
    return [line for line in lines[max(0, end - shown) : end] if line]
