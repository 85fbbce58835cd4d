"""The session library: every saved session (journal) listed, opened, titled, searched,
deleted with undo, exported, and kept for as long as the user chose. No Qt: the library
window and `captionist sessions` both use this.

The journals stay the truth and stay append-only: a title is an appended record, a delete
moves the journal (and its markers) into `sessions/.trash/`, undo moves it back. A session
being recorded (its writer holds the journal's lock) is never written or moved from here:
the app titles its own running session through its journal's writer (`Journal.submit_title`).

The trash keeps a deleted session TRASH_DAYS days from its delete (Undo brings it back till
then), and `purge_expired_trash` (retention's checks) removes it after; Empty trash
(`purge_trash`) sooner. Retention (`apply_retention`) removes expired live sessions for good,
not into the trash: Keep sessions promises they are gone, and the user agreed to it once. It
never takes a session from the trash before its time.

Everything the library makes is private (see app/services/private_files.py); opening the
library narrows what an older version left wider.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from app.domain.export import ExportOptions, export
from app.domain.journal import clean_title, encode_title
from app.domain.library import (
    default_title,
    session_order,
    session_start,
)
from app.domain.search_query import fts_query
from app.domain.transcript import Segment, numbered_utterances
from app.errors import LibraryError, SessionBusy, SessionNotFound
from app.services.journal import read_records, sessions_dir
from app.services.library.files import (
    DELETED,
    SUFFIX,
    TRASH,
    JournalFile,
    SessionState,
    append_record,
    deleted_ns,
    move_session,
    remove_session,
    scan,
    stamp_deleted,
    state_of,
)
from app.services.library.index import CachedJournal, LibraryIndex
from app.services.private_files import INDEX, make_private

log = logging.getLogger(__name__)

INDEX_NAME = INDEX
TRASH_DAYS = 30  # a deleted session stays in the trash this long after its delete
EXPORT_TITLE = "Captionist transcript"  # what the app's own export calls a transcript


@dataclass(frozen=True)
class SessionSummary:
    """One session as a list shows it."""

    id: str  # the journal's file name without .jsonl
    started: datetime  # local time, from the id (else the journal's last change)
    duration_s: float  # first start to last end
    sources: tuple[str, ...]  # labels heard ("You", "Others", "Speaker 1" ...), in order
    names: Mapping[str, str]  # label -> the user's name for it
    title: str  # the user's title, else the first words said
    custom_title: bool  # the user gave `title`
    segments: int
    utterances: int
    size: int  # bytes of journal
    state: SessionState

    @property
    def speakers(self) -> tuple[str, ...]:
        """`sources`, each shown by the name the user gave it."""
        return tuple(self.names.get(label, label) for label in self.sources)


@dataclass(frozen=True)
class SessionContents:
    """One session opened: what its journal holds, read afresh."""

    id: str
    path: Path
    segments: list[Segment]  # the finals as journaled
    names: dict[str, str]
    title: str
    custom_title: bool
    utterances: list[Segment] = field(default_factory=list)  # rows, as the app shows them
    utterance_finals: list[int] = field(default_factory=list)  # each row's first final


@dataclass(frozen=True)
class SearchHit:
    session_id: str
    started: datetime  # when the session started
    start_s: float  # where the line is on the session's timeline
    label: str
    speaker: str  # the label shown by its name
    text: str  # the whole line (utterance)
    row: int  # its index in SessionContents.utterances: where a view jumps to
    final: int  # the index of its first final in SessionContents.segments


class SessionLibrary:
    def __init__(self, directory: Path | None = None, index_path: Path | None = None) -> None:
        """The sessions in `directory` (default: the app's, CAPTIONIST_DATA_DIR/sessions when
        set); the index in `index_path` (default: library.sqlite beside that folder)."""
        self.directory = directory or sessions_dir()
        self.trash_dir = self.directory / TRASH
        index_path = index_path or self.directory.parent / INDEX_NAME
        make_private(self.directory.parent, self.directory, index_path)
        self._index = LibraryIndex(index_path, _sort_key)

    def close(self) -> None:
        self._index.close()

    # -- reading -------------------------------------------------------------------------------

    def sessions(self) -> list[SessionSummary]:
        """Every session, in the order they started."""
        files = scan(self.directory)
        if not files:
            return []
        cached = self._index.journals(files)
        listed = [_summary(f, cached[f.id]) for f in files if f.id in cached]
        return sorted(listed, key=lambda s: (s.started, session_order(s.id)))

    def summary(self, session_id: str) -> SessionSummary:
        journal = self._file(session_id)
        cached = self._index.journals(scan(self.directory))
        if journal.id not in cached:
            raise LibraryError(f"cannot read {journal.path}")
        return _summary(journal, cached[journal.id])

    def refresh(self) -> int:
        """Bring the index up to date; how many journals it read (changed or new ones)."""
        files = scan(self.directory)
        return self._index.refresh(files) if files else 0

    def path(self, session_id: str) -> Path:
        return self._file(session_id).path

    def open(self, session_id: str) -> SessionContents:
        journal = self._file(session_id)
        records = read_records(journal.path)
        numbered = numbered_utterances(records.segments)
        utterances = [u for _, u in numbered]
        title = records.title or default_title(utterances)
        return SessionContents(
            journal.id,
            journal.path,
            records.segments,
            records.names,
            title,
            records.title is not None,
            utterances,
            [first for first, _ in numbered],
        )

    def export(self, session_id: str, fmt: str) -> str:
        """The session in `fmt` (txt, srt, vtt, json, md), names applied: the app's export."""
        opened = self.open(session_id)
        options = ExportOptions(title=EXPORT_TITLE, names=opened.names)
        return export(opened.utterances, fmt, options)

    def search(self, typed: str, limit: int | None = None) -> list[SearchHit]:
        """Lines holding every word typed (`word*`: a prefix; "a phrase"), in session order
        then line order; anything typed is words, never query syntax."""
        match = fts_query(typed)
        files = scan(self.directory)
        if match is None or not files:
            return []
        cached = self._index.journals(files)
        by_id = {f.id: f for f in files}
        hits = []
        for line in self._index.search(files, match, limit):
            names = cached[line.session_id].names if line.session_id in cached else {}
            journal = by_id[line.session_id]
            hits.append(
                SearchHit(
                    line.session_id,
                    _started(journal),
                    line.start_s,
                    line.label,
                    names.get(line.label, line.label),
                    line.text,
                    line.row,
                    line.final,
                )
            )
        return hits

    # -- changing ------------------------------------------------------------------------------

    def rename(self, session_id: str, title: str) -> str:
        """Give a session a title (empty: back to its first words); the title as shown.
        ValueError for one too long, SessionBusy while it is being recorded."""
        journal = self._file(session_id)
        cleaned = clean_title(title)
        append_record(journal.path, journal.id, encode_title(cleaned).encode("utf-8"))
        return cleaned

    def delete(self, session_id: str) -> None:
        """Move it to the trash, for TRASH_DAYS days (`undelete` brings it back till then).
        SessionBusy while recorded."""
        journal = self._file(session_id)
        move_session(journal.id, self.directory, self.trash_dir)
        stamp_deleted(self.trash_dir, journal.id)

    def undelete(self, session_id: str) -> None:
        if session_id not in self.trashed():
            raise SessionNotFound(session_id, str(self.trash_dir))
        move_session(session_id, self.trash_dir, self.directory, live=False)
        (self.directory / f"{session_id}{SUFFIX}{DELETED}").unlink(missing_ok=True)

    def trashed(self) -> list[str]:
        return sorted((f.id for f in scan(self.trash_dir)), key=session_order)

    def purge_trash(self, session_ids: Collection[str] | None = None) -> int:
        """Empty trash: remove what is in the trash for good (of it only `session_ids`, when
        given: what the user was told about); how many sessions."""
        trashed = [i for i in self.trashed() if session_ids is None or i in session_ids]
        for session_id in trashed:
            remove_session(session_id, self.trash_dir, live=False)
        return len(trashed)

    def expired_trash(self, now: datetime | None = None) -> list[str]:
        """Sessions deleted more than TRASH_DAYS days before `now`: past their undo."""
        cutoff = ((now or datetime.now()) - timedelta(days=TRASH_DAYS)).timestamp() * 1e9
        return [i for i in self.trashed() if deleted_ns(self.trash_dir, i) < cutoff]

    def purge_expired_trash(self, now: datetime | None = None) -> list[str]:
        """Remove for good what was deleted more than TRASH_DAYS days ago; the ids."""
        expired = self.expired_trash(now)
        for session_id in expired:
            remove_session(session_id, self.trash_dir, live=False)
        return expired

    def expired(
        self, keep_days: int, now: datetime | None = None, spare: Collection[str] = ()
    ) -> list[SessionSummary]:
        """Sessions that started more than `keep_days` ago and are not being recorded nor in
        `spare` (open in a window): what `apply_retention` removes. One a crash left open is
        retired like any other (it was offered back at the start after the crash)."""
        cutoff = _cutoff(keep_days, now)
        return [
            s
            for s in self.sessions()
            if s.started < cutoff and s.state is not SessionState.RECORDING and s.id not in spare
        ]

    def apply_retention(
        self, keep_days: int | None, now: datetime | None = None, spare: Collection[str] = ()
    ) -> list[str]:
        """Keep sessions `keep_days` days (None: forever): older ones are removed for good (not
        into the trash), never one being recorded nor one in `spare`; and the trash is purged
        of what was deleted more than TRASH_DAYS days ago, whatever `keep_days` says (never
        sooner: Undo may still want it). The ids removed."""
        if keep_days is not None:
            _cutoff(keep_days, now)  # a bad setting is said before anything is removed
        removed = self.purge_expired_trash(now)
        if keep_days is None:
            return removed
        for summary in self.expired(keep_days, now, spare):
            try:
                remove_session(summary.id, self.directory)
            except SessionBusy as exc:  # recording began meanwhile: kept, as it should be
                log.info("kept %s: %s", summary.id, exc.reason)
                continue
            removed.append(summary.id)
        return sorted(removed, key=session_order)

    def _file(self, session_id: str) -> JournalFile:
        """The journal of `session_id`, which must name a file right in the sessions folder."""
        if session_id.endswith(SUFFIX):
            session_id = session_id[: -len(SUFFIX)]
        if session_id and "/" not in session_id and "\\" not in session_id:
            for journal in scan(self.directory):
                if journal.id == session_id:
                    return journal
        raise SessionNotFound(session_id, str(self.directory))


def _started(journal: JournalFile) -> datetime:
    return session_start(journal.id) or datetime.fromtimestamp(journal.mtime_ns / 1e9)


def _sort_key(journal: JournalFile) -> str:
    base, number = session_order(journal.id)
    return f"{_started(journal):%Y-%m-%dT%H-%M-%S}|{base}|{number:09d}"


def _cutoff(keep_days: int, now: datetime | None) -> datetime:
    if keep_days < 1:
        raise ValueError("keep sessions for at least 1 day (or forever)")
    return (now or datetime.now()) - timedelta(days=keep_days)


def _summary(journal: JournalFile, cached: CachedJournal) -> SessionSummary:
    facts = cached.facts
    return SessionSummary(
        journal.id,
        _started(journal),
        facts.duration_s,
        facts.sources,
        cached.names,
        cached.title or facts.default_title,
        cached.title is not None,
        facts.segments,
        facts.utterances,
        journal.size,
        state_of(journal),
    )
