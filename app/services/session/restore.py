"""Restoring a saved session into the current one. No Qt.

Each saved session comes back once (a second restore, or the current session's own journal,
adds nothing), after what the current session already holds on its timeline (as a new run
goes on after the earlier ones), and into the current session's journal, so a crash after a
restore does not lose what was restored. Its speakers are numbered after the current
session's (a restored "Speaker 1" is not this session's), and the names given to them come
along.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.domain.speakers import numbers_used, with_offset
from app.domain.transcript import Segment, join_utterances, next_run_start
from app.errors import AutosaveError
from app.services.caption_events import autosave_failed_message
from app.services.journal import (
    Journal,
    crashed_sessions,
    dismiss_crashed,
    latest_session,
    read_session,
)


@dataclass(frozen=True)
class Restored:
    utterances: list[Segment]  # on the current session's timeline (the note counts them)
    note: str  # what to tell the user
    autosave_warning: str | None = None  # they are not in the journal yet: why, what to do
    names: dict[str, str] = field(default_factory=dict)  # its speakers' names, renumbered
    finals: list[Segment] = field(default_factory=list)  # for the panel: as journaled, corrected


def last_session(directory: Path | None, current: Path | None) -> Path | None:
    """What "Restore last session" brings back: the newest session that crashed, else the
    newest one; never the current session's own."""
    crashed = [path for path in crashed_sessions(directory) if path != current]
    return crashed[-1] if crashed else latest_session(directory, besides=current)


class SessionRestore:
    def __init__(self) -> None:
        self._restored: set[Path] = set()

    def restore(self, path: Path, journal: Journal, current: Sequence[Segment]) -> Restored:
        """Bring back `path` after `current` (what the session shows) and into `journal`."""
        key = path.resolve()
        if key == journal.path.resolve():
            return Restored([], f"{path.name} is this session: nothing to restore")
        if key in self._restored:
            return Restored([], f"{path.name} was restored already")
        offset = next_run_start(current)
        saved, saved_names = read_session(path)
        saved, names = with_offset(saved, saved_names, numbers_used(current))
        segments = [replace(s, start=s.start + offset, end=s.end + offset) for s in saved]
        self._restored.add(key)
        utterances = join_utterances(segments)
        note = f"Restored {len(utterances)} segments from {path.name}"
        failure: AutosaveError | None = None
        try:
            journal.extend(segments)
        except AutosaveError as exc:  # the journal keeps them and writes them when it can
            failure = exc
        for label, name in names.items():  # behind the segments, kept as they are if refused
            journal.submit_rename(label, name)
        if failure is not None:
            warning = autosave_failed_message(failure.reason)
            return Restored(utterances, note, warning, names, segments)
        dismiss_crashed(path)  # it is safe in this session's journal: not offered again
        return Restored(utterances, note, names=names, finals=segments)
