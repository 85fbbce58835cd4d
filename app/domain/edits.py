"""Corrections of misheard words. Pure.

A correction is kept beside the finals, never written into them (as a speaker's name is): the
journal holds each final as heard, and an edit line saying what it should read; the latest
edit of a final wins. A corrected Segment carries the words heard in `original`.

A final is known by its label and its start, to the millisecond the journal writes. Both are
fixed once a final is written; a restore writes the finals into the new session's journal with
new times and labels, and their edits with them, in the same terms. They need nothing added to
the segment lines, so a journal written before edits existed can be corrected too.

The user corrects a turn (app/domain/turns.py), several finals read as one paragraph: the
corrected words are spread back over the finals they replace, so each final keeps its time
and only the finals whose words changed get an edit.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from app.domain.transcript import Segment

EditKey = tuple[str, int]  # (label, start in milliseconds as journaled)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def edit_key(segment: Segment) -> EditKey:
    return edit_key_of(segment.source, segment.start)


def edit_key_of(label: str, start: float) -> EditKey:
    # Rounded as the journal rounds it first: a live start and its journaled copy agree.
    return label, round(round(start, 3) * 1000)


def with_edit(segment: Segment, text: str) -> Segment:
    """`segment` reading `text`, the words heard kept; an edit back to them is no edit."""
    heard = segment.original or segment.text
    if text == heard:
        return replace(segment, text=heard, original="")
    return replace(segment, text=text, original=heard)


def apply_edits(segments: Iterable[Segment], edits: Mapping[EditKey, str]) -> list[Segment]:
    """The finals with their edits (label and start -> text) applied; markers for lost audio
    have no words to correct."""
    if not edits:
        return list(segments)
    return [
        with_edit(s, edits[key]) if not s.gap_s and (key := edit_key(s)) in edits else s
        for s in segments
    ]


def words_of(text: str) -> list[str]:
    return _CONTROL.sub(" ", text).split()


def split_edit(parts: Sequence[str], text: str) -> list[str]:
    """The corrected `text` of a turn spread over the texts of its finals (`parts`): a word
    kept stays in its final, a replaced word goes to the final of the word it replaces, an
    added word to the final of the word before it. A final whose words did not change keeps
    its text exactly."""
    owners: list[int] = []  # the part each old word is in
    old: list[str] = []
    for number, part in enumerate(parts):
        words = words_of(part)
        old.extend(words)
        owners.extend([number] * len(words))
    new = words_of(text)
    spread: list[list[str]] = [[] for _ in parts]
    if not owners:  # no words heard at all (a turn emptied before): the first final takes them
        spread[0] = new
    else:
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "insert":
                spread[owners[max(i1 - 1, 0)]].extend(new[j1:j2])
                continue
            for k in range(j2 - j1):  # equal, replace (a delete places nothing)
                spread[owners[i1 + k * (i2 - i1) // (j2 - j1)]].append(new[j1 + k])
    return [
        part if words == words_of(part) else " ".join(words)
        for part, words in zip(parts, spread, strict=True)
    ]
