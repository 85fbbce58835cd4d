"""The session library's pure parts: what a journal's name and records say about a session.

A session's id is its journal's file name without `.jsonl`: `<YYYY-MM-DDTHH-MM-SS>[-N]`, the
local time it started (a second session in the same second gets `-2`, `-3` ...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.domain.journal import JournalRecords
from app.domain.transcript import Segment, numbered_utterances

SESSION_ID = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2})(?:-(\d+))?")
TITLE_WORDS = 8
NO_WORDS_TITLE = "(nothing said)"


def session_start(session_id: str) -> datetime | None:
    """The local time the session started, from its id; None for a name the app never gives."""
    match = SESSION_ID.fullmatch(session_id)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y-%m-%dT%H-%M-%S")
    except ValueError:
        return None


def session_order(session_id: str) -> tuple[str, int]:
    """Sorts sessions as they started: `T10-00-00-2` before `T10-00-00-10`."""
    match = SESSION_ID.fullmatch(session_id)
    if match is None:
        return session_id, 0
    return match.group(1), int(match.group(2) or 1)


def default_title(utterances: Sequence[Segment]) -> str:
    """The first words said: what a session is called until the user names it."""
    words: list[str] = []
    for utterance in utterances:
        if not utterance.gap_s:
            words.extend(utterance.text.split())
            if len(words) > TITLE_WORDS:
                break
    if not words:
        return NO_WORDS_TITLE
    title = " ".join(words[:TITLE_WORDS])
    # "Said this.…" reads wrong: a cut title loses the stop or comma it was cut at.
    return title.rstrip(".,;:") + "…" if len(words) > TITLE_WORDS else title


@dataclass(frozen=True)
class SessionFacts:
    """What a list shows of a journal, computed once from its records."""

    duration_s: float  # first start to last end, on the session's timeline
    sources: tuple[str, ...]  # the labels heard, in the order they first spoke
    segments: int  # finals journaled
    utterances: int  # rows a view of the session shows (finals joined up to each speech end)
    default_title: str


def summarize(records: JournalRecords) -> SessionFacts:
    segments = records.segments
    utterances = numbered_utterances(segments)
    duration = max(s.end for s in segments) - min(s.start for s in segments) if segments else 0.0
    sources = dict.fromkeys(s.source for s in segments if s.source and not s.gap_s)
    return SessionFacts(
        max(0.0, duration),
        tuple(sources),
        len(segments),
        len(utterances),
        default_title([u for _, u in utterances]),
    )


def format_duration(seconds: float) -> str:
    """`m:ss`, or `h:mm:ss` from an hour."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
