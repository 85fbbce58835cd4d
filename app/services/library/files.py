"""The library's file work: finding journals, appending a record, moving a session to the
trash and back, removing one for good. A journal is never rewritten: a record is appended
(under the journal's lock, so never between a writer's lines) and a delete is a move.

A session may be being recorded when its writer holds the journal's lock; where there are no
locks, when its `.open` marker is the newest in the sessions folder (see journal_lock). Nothing
is recorded in the trash.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from app.errors import LibraryError, SessionBusy
from app.services.journal_lock import (
    LOCKING,
    OPEN_SUFFIX,
    exclusive_append,
    locked_by_a_writer,
    may_be_running,
    newest_marked,
)
from app.services.private_files import TRASH as TRASH
from app.services.private_files import private_dir, touch_private

log = logging.getLogger(__name__)

SUFFIX = ".jsonl"
DELETED = ".deleted"  # `<id>.jsonl.deleted` in the trash: when it was deleted (its mtime)
BEING_RECORDED = "it is being recorded; rename or delete it once it has stopped"


class SessionState(StrEnum):
    CLOSED = "closed"
    RECORDING = "recording"  # a writer has it open now (the app, here or in another process)
    CRASHED = "crashed"  # marked open, and nobody writes it: its session never closed


@dataclass(frozen=True)
class JournalFile:
    id: str
    path: Path
    size: int
    mtime_ns: int
    marked_open: bool  # its `.open` marker is there: running, or left by a crash
    newest_marked: bool = False  # its marker is the newest (where there are no locks: running)


def scan(directory: Path) -> list[JournalFile]:
    """Every journal in `directory` (none if it does not exist), with one stat each."""
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    names = {entry.name for entry in entries}
    newest = None if LOCKING else newest_marked(directory)  # a second scan, where no locks
    found = []
    for entry in entries:
        if not entry.name.endswith(SUFFIX) or entry.name.startswith("."):
            continue
        try:
            if not entry.is_file():
                continue
            stat = entry.stat()
        except OSError:
            continue  # gone meanwhile
        session_id = entry.name[: -len(SUFFIX)]
        marked = entry.name + OPEN_SUFFIX in names
        path = Path(entry.path)
        found.append(
            JournalFile(session_id, path, stat.st_size, stat.st_mtime_ns, marked, path == newest)
        )
    return found


def state_of(journal: JournalFile) -> SessionState:
    if not journal.marked_open:
        return SessionState.CLOSED
    running = locked_by_a_writer(journal.path) if LOCKING else journal.newest_marked
    return SessionState.RECORDING if running else SessionState.CRASHED


def append_record(journal: Path, session_id: str, line: bytes) -> None:
    """Append `line` to a journal nobody is writing; SessionBusy if one is."""
    if not LOCKING and may_be_running(journal):
        raise SessionBusy(session_id, BEING_RECORDED)
    with exclusive_append(journal) as fd:
        if fd is None:
            raise SessionBusy(session_id, BEING_RECORDED)
        size = os.lseek(fd, 0, os.SEEK_END)
        if size:
            os.lseek(fd, size - 1, os.SEEK_SET)
            if os.read(fd, 1) != b"\n":  # a torn last line (a crash): ours starts a new one
                line = b"\n" + line
        try:
            _write_all(fd, line)
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)  # never leave half a record to tear the next line
            raise LibraryError(f"cannot write {journal}: {exc.strerror or exc}") from exc


def move_session(session_id: str, source: Path, target: Path, *, live: bool = True) -> None:
    """Move a journal and every file beside it (`<id>.jsonl.*`: its markers) from folder
    `source` to folder `target` (made private if missing). SessionBusy if it is being
    recorded, or `target` has it. `live`: `source` is where sessions are recorded (False: the
    trash, where a marker moved along with a crashed session marks nothing)."""
    journal = source / f"{session_id}{SUFFIX}"
    if (target / journal.name).exists():
        raise SessionBusy(session_id, f"a session of that name is already in {target}")
    private_dir(target)
    with _not_recorded(journal, session_id, live):
        companions = _companions(journal)
        os.replace(journal, target / journal.name)
        for path in companions:
            os.replace(path, target / path.name)


def remove_session(session_id: str, folder: Path, *, live: bool = True) -> None:
    """Remove a journal and the files beside it for good (a purge, an expired session)."""
    journal = folder / f"{session_id}{SUFFIX}"
    with _not_recorded(journal, session_id, live):
        companions = _companions(journal)
        journal.unlink()
        for path in companions:
            path.unlink(missing_ok=True)


def stamp_deleted(trash: Path, session_id: str) -> None:
    """Note when `session_id` went to the trash (now): what its purge is counted from."""
    touch_private(trash / f"{session_id}{SUFFIX}{DELETED}")


def deleted_ns(trash: Path, session_id: str) -> int:
    """When `session_id` went to the trash. One there without a note (from an older version)
    is noted now: it gets its whole time there from today."""
    stamp = trash / f"{session_id}{SUFFIX}{DELETED}"
    try:
        return stamp.stat().st_mtime_ns
    except FileNotFoundError:
        pass
    try:
        touch_private(stamp)
    except OSError as exc:  # a read-only trash: it waits, never purged too soon
        log.warning("cannot note when %s was deleted: %s", session_id, exc)
    return time.time_ns()


@contextlib.contextmanager
def _not_recorded(journal: Path, session_id: str, live: bool) -> Iterator[None]:
    """Hold the journal's lock while it moves, so no writer starts between the check and the
    move; where there are no locks, the session marked open last is left alone."""
    if not LOCKING:
        if live and may_be_running(journal):
            raise SessionBusy(session_id, BEING_RECORDED)
        yield
        return
    with exclusive_append(journal) as fd:
        if fd is None:
            raise SessionBusy(session_id, BEING_RECORDED)
        yield


def _companions(journal: Path) -> list[Path]:
    return sorted(journal.parent.glob(glob.escape(journal.name) + ".*"))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
