"""Who writes a journal: the app's writer holds an advisory lock on it for as long as its
session runs, so another process (the library, `captionist sessions`, a second app) can tell a
running session from one left open by a crash, and never appends between the writer's lines.
A writer that cannot have the lock does not write at all (`Journal` refuses).

`flock` locks belong to an open file, not a process: a second open of the same journal in
the app's own process is refused too, as it should be.

Without `fcntl` (Windows) nothing is locked, and only the `.open` markers tell: the session
whose marker was touched last (by the writer that opened it) counts as running, every older
one marked open as left by a crash. One session runs at a time there; a second app's running
session may be taken for a crashed one.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

LOCKING = sys.platform != "win32"
OPEN_SUFFIX = ".open"  # beside a journal while its session runs: left behind by a crash


def marker_of(journal: Path) -> Path:
    return journal.with_name(journal.name + OPEN_SUFFIX)


def try_lock(fd: int) -> bool:
    """Take the journal's lock for this open file, without waiting: False if another holds it
    (or this platform has no such locks)."""
    if sys.platform == "win32" or not LOCKING:
        return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def lock_for_writing(fd: int) -> bool:
    """What a writer needs before its first byte: the lock taken (True), or held by another
    (False). Where there are no locks, True: nothing can tell."""
    return try_lock(fd) or not LOCKING


def locked_by_a_writer(path: Path) -> bool:
    """Is a session writing `path` now? (Always True where there are no locks: the caller
    asks only about sessions marked open, and must then assume the worst; `may_be_running`
    tells those apart.)"""
    if not LOCKING:
        return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False  # gone: nobody writes it
    try:
        return not try_lock(fd)
    finally:
        os.close(fd)  # and the probe's lock with it


def newest_marked(directory: Path) -> Path | None:
    """The journal in `directory` whose `.open` marker was touched last: where there are no
    locks, the one session that may be running."""
    try:
        with os.scandir(directory) as scanned:
            entries = {entry.name: entry for entry in scanned}
    except OSError:
        return None
    newest: tuple[int, str] | None = None
    for name, entry in entries.items():
        journal = name[: -len(OPEN_SUFFIX)]
        if not name.endswith(".jsonl" + OPEN_SUFFIX) or journal not in entries:
            continue  # a marker whose journal is gone marks nothing
        with contextlib.suppress(OSError):  # gone meanwhile
            key = (entry.stat().st_mtime_ns, journal)
            if newest is None or key > newest:
                newest = key
    return directory / newest[1] if newest is not None else None


def may_be_running(journal: Path) -> bool:
    """Might a session be writing `journal` now? Where locks exist: its lock is held. Where
    they do not: it is marked open and its marker is the newest in its folder."""
    if LOCKING:
        return locked_by_a_writer(journal)
    return marker_of(journal).exists() and newest_marked(journal.parent) == journal


def running_among(marked: Iterable[Path]) -> set[Path]:
    """Of journals marked open (in one folder), those a session may be writing now."""
    marked = list(marked)
    if LOCKING:
        return {path for path in marked if locked_by_a_writer(path)}
    folders = {path.parent for path in marked}
    newest = {newest_marked(folder) for folder in folders}
    return {path for path in marked if path in newest}


@contextlib.contextmanager
def writer_excluded(journal: Path) -> Iterator[bool]:
    """Hold `journal`'s lock for the block, so that no writer starts meanwhile: False when a
    session may be writing it (see `may_be_running`), True when none is (or it is gone)."""
    if not LOCKING:
        yield not may_be_running(journal)
        return
    try:
        fd = os.open(journal, os.O_RDONLY)
    except FileNotFoundError:
        yield True
        return
    try:
        yield try_lock(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def exclusive_append(path: Path) -> Iterator[int | None]:
    """An append descriptor for `path` holding the journal's lock; None when a writer has it.
    Where there are no locks it is not locked: the caller has checked the `.open` markers
    (`may_be_running`). The lock goes when the block ends."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND)
    try:
        yield fd if lock_for_writing(fd) else None
    finally:
        os.close(fd)
