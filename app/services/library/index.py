"""The library's index, `<data>/library.sqlite`: each journal's list facts, and its lines in
an SQLite FTS5 table for search. Only a cache: the journals are the truth, and the index is
rebuilt from them whenever it is missing, damaged or from another version.

A journal is read again only when its (size, mtime) changed, so a library that is up to date
costs one stat per journal and one query. Two processes (the app and `captionist sessions`)
may share the file: SQLite's locks order their writes. If the file cannot be used at all (a
read-only folder, a lock held too long) this process keeps its index in memory instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from app.domain.journal import JournalRecords, decode_journal
from app.domain.library import SessionFacts, summarize
from app.domain.transcript import numbered_utterances
from app.errors import SearchUnavailable
from app.services.library.files import JournalFile
from app.services.private_files import FILE_MODE, create_private, narrow

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = 1
BATCH = 50  # journals read per write transaction: others wait at most that long
_TABLES = ("journals", "lines", "texts")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS journals(
    id TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    duration_s REAL NOT NULL, sources TEXT NOT NULL, names TEXT NOT NULL, title TEXT,
    default_title TEXT NOT NULL, segments INTEGER NOT NULL, utterances INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lines(
    id INTEGER PRIMARY KEY, journal TEXT NOT NULL, sort_key TEXT NOT NULL,
    row INTEGER NOT NULL, final INTEGER NOT NULL, start REAL NOT NULL, label TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS lines_by_journal ON lines(journal);
"""
# Accents do not matter to a search ("cafe" finds "café"); case never does.
_FTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS texts "
    "USING fts5(text, tokenize='unicode61 remove_diacritics 2')"
)
# Errors that say the file cannot be used now, not that it is damaged: keep it, go to memory.
_UNUSABLE = ("locked", "busy", "unable to open", "readonly", "disk i/o", "full", "permission")


@dataclass(frozen=True)
class CachedJournal:
    id: str
    size: int
    mtime_ns: int
    facts: SessionFacts
    names: dict[str, str]
    title: str | None


@dataclass(frozen=True)
class IndexedLine:
    session_id: str
    row: int  # the utterance's index in the session's utterances
    final: int  # the index of its first final in the session's segments
    start_s: float
    label: str
    text: str


def fts5_available(connection: sqlite3.Connection) -> bool:
    try:
        connection.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
        connection.execute("DROP TABLE temp.fts5_probe")
    except sqlite3.OperationalError:
        return False
    return True


class LibraryIndex:
    """Thread-safe: the library window may search on a worker thread."""

    def __init__(self, path: Path | None, sort_key: Callable[[JournalFile], str]) -> None:
        self.path = path  # None: in memory
        self._sort_key = sort_key
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self.searchable = False
        self._last_reads = 0

    def journals(self, files: Sequence[JournalFile]) -> dict[str, CachedJournal]:
        """The facts of every journal in `files`, brought up to date first."""
        return self._guarded(files, self._read_journals)

    def search(
        self, files: Sequence[JournalFile], match: str, limit: int | None
    ) -> list[IndexedLine]:
        """Lines matching the FTS5 expression `match`, in session order then line order."""
        return self._guarded(files, lambda db: self._search(db, match, limit))

    def refresh(self, files: Sequence[JournalFile]) -> int:
        """Bring the index up to date with `files`; how many journals were read."""
        return self._guarded(files, lambda db: self._last_reads)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # -- keeping the index usable -------------------------------------------------------------

    def _guarded(self, files: Sequence[JournalFile], job: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            for attempt in range(3):
                try:
                    db = self._connect()
                    self._last_reads = self._update(db, files)
                    return job(db)
                except sqlite3.DatabaseError as exc:
                    if attempt == 2:
                        raise
                    self._recover(exc)
            raise AssertionError("unreachable")

    def _recover(self, exc: sqlite3.DatabaseError) -> None:
        self.close()
        reason = str(exc).lower()
        if self.path is None:
            raise exc  # in memory there is nothing to rebuild from but what failed
        if any(word in reason for word in _UNUSABLE):
            log.warning("the library index %s cannot be used (%s): kept in memory", self.path, exc)
            self.path = None
            return
        log.warning(
            "the library index %s is damaged (%s): rebuilding it from the journals", self.path, exc
        )
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            except OSError:
                self.path = None  # cannot even remove it: memory, then
                return

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None:
            return self._connection
        target = str(self.path) if self.path is not None else ":memory:"
        if self.path is not None:
            _made_private(self.path)
        db = sqlite3.connect(target, timeout=10, isolation_level=None, check_same_thread=False)
        try:
            self.searchable = fts5_available(db)
            version = SCHEMA_VERSION * 2 + int(self.searchable)
            if _version(db) != version:
                with _transaction(db):
                    if _version(db) != version:  # not made meanwhile by another process
                        for table in _TABLES:
                            db.execute(f"DROP TABLE IF EXISTS {table}")
                        _create(db, self.searchable)
                        db.execute(f"PRAGMA user_version = {version}")
        except sqlite3.DatabaseError:
            db.close()
            raise
        self._connection = db
        return db

    # -- reading journals into it -------------------------------------------------------------

    def _update(self, db: sqlite3.Connection, files: Sequence[JournalFile]) -> int:
        known = self._known(db)
        current = {f.id for f in files}
        gone = [session_id for session_id in known if session_id not in current]
        changed = [f for f in files if known.get(f.id) != (f.size, f.mtime_ns)]
        if gone:
            with _transaction(db):
                for session_id in gone:
                    self._forget(db, session_id)
        for first in range(0, len(changed), BATCH):
            batch = [(f, _read(f)) for f in changed[first : first + BATCH]]
            with _transaction(db):
                known = self._known(db)  # another process may have done some meanwhile
                for journal, records in batch:
                    if known.get(journal.id) == (journal.size, journal.mtime_ns):
                        continue
                    self._forget(db, journal.id)
                    if records is not None:
                        self._store(db, journal, records)
        return len(changed)

    @staticmethod
    def _known(db: sqlite3.Connection) -> dict[str, tuple[int, int]]:
        rows = db.execute("SELECT id, size, mtime_ns FROM journals")
        return {session_id: (size, mtime) for session_id, size, mtime in rows}

    def _forget(self, db: sqlite3.Connection, session_id: str) -> None:
        if self.searchable:
            db.execute(
                "DELETE FROM texts WHERE rowid IN (SELECT id FROM lines WHERE journal = ?)",
                (session_id,),
            )
        db.execute("DELETE FROM lines WHERE journal = ?", (session_id,))
        db.execute("DELETE FROM journals WHERE id = ?", (session_id,))

    def _store(self, db: sqlite3.Connection, journal: JournalFile, records: JournalRecords) -> None:
        facts = summarize(records)
        db.execute(
            "INSERT INTO journals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                journal.id,
                journal.size,
                journal.mtime_ns,
                facts.duration_s,
                json.dumps(facts.sources),
                json.dumps(records.names),
                records.title,
                facts.default_title,
                facts.segments,
                facts.utterances,
            ),
        )
        if not self.searchable:
            return
        next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM lines").fetchone()[0]
        sort_key = self._sort_key(journal)
        lines, texts = [], []
        for row, (final, utterance) in enumerate(numbered_utterances(records.segments)):
            text = utterance.text.strip()
            if utterance.gap_s or not text:
                continue  # a gap marker is not speech
            lines.append(
                (next_id, journal.id, sort_key, row, final, utterance.start, utterance.source)
            )
            texts.append((next_id, text))
            next_id += 1
        db.executemany("INSERT INTO lines VALUES (?, ?, ?, ?, ?, ?, ?)", lines)
        db.executemany("INSERT INTO texts(rowid, text) VALUES (?, ?)", texts)

    # -- queries ------------------------------------------------------------------------------

    def _read_journals(self, db: sqlite3.Connection) -> dict[str, CachedJournal]:
        journals = {}
        for row in db.execute("SELECT * FROM journals"):
            session_id, size, mtime_ns, duration, sources, names, title, default, segments, rows = (
                row
            )
            facts = SessionFacts(duration, tuple(json.loads(sources)), segments, rows, default)
            journals[session_id] = CachedJournal(
                session_id, size, mtime_ns, facts, json.loads(names), title
            )
        return journals

    def _search(self, db: sqlite3.Connection, match: str, limit: int | None) -> list[IndexedLine]:
        if not self.searchable:
            raise SearchUnavailable(
                f"this Python's sqlite3 (SQLite {sqlite3.sqlite_version}) has no FTS5 module"
            )
        query = (
            "SELECT l.journal, l.row, l.final, l.start, l.label, t.text "
            "FROM texts AS t JOIN lines AS l ON l.id = t.rowid "
            "WHERE texts MATCH ? ORDER BY l.sort_key, l.row"
        )
        parameters: tuple[object, ...] = (match,)
        if limit is not None:
            query += " LIMIT ?"
            parameters = (match, limit)
        return [IndexedLine(*row) for row in db.execute(query, parameters)]


def _made_private(path: Path) -> None:
    """Make the index file 0600 before SQLite opens it (SQLite makes its -journal and -wal as
    the database file is). What cannot be done here, SQLite says when it opens the file."""
    try:
        os.close(create_private(path))
    except FileExistsError:
        with contextlib.suppress(OSError):
            narrow(path, FILE_MODE)
    except OSError:
        pass  # a missing or read-only folder: SQLite's error, then memory


def _version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _create(db: sqlite3.Connection, searchable: bool) -> None:
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    if searchable:
        db.execute(_FTS)


def _read(journal: JournalFile) -> JournalRecords | None:
    try:
        data = journal.path.read_bytes()
    except OSError as exc:  # gone or unreadable since the scan: listed again once readable
        log.warning("cannot read %s: %s", journal.path, exc)
        return None
    # Split on "\n" only: the writer's line end (a U+2028 inside a text is not one).
    return decode_journal(data.decode("utf-8", errors="replace").split("\n"))


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")  # the write lock now: no deadlock upgrading a read later
    try:
        yield
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
