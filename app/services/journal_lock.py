"""Who writes a journal: the app's writer holds an advisory lock on it for as long as its
session runs, so another process (the library, `captionist sessions`) can tell a running
session from one left open by a crash, and never appends between the writer's lines.

`flock` locks belong to an open file, not a process: a second open of the same journal in
the app's own process is refused too, as it should be. Without `fcntl` (Windows) nothing is
locked and a session marked open counts as running: the library then leaves it alone.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

LOCKING = sys.platform != "win32"


def try_lock(fd: int) -> bool:
    """Take the journal's lock for this open file, without waiting: False if another holds it
    (or this platform has no such locks)."""
    if sys.platform == "win32":
        return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def locked_by_a_writer(path: Path) -> bool:
    """Is a session writing `path` now? (Always True where there are no locks: the caller
    asks only about sessions marked open, and must then assume the worst.)"""
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


@contextlib.contextmanager
def exclusive_append(path: Path) -> Iterator[int | None]:
    """An append descriptor for `path` holding the journal's lock; None when a writer has it.
    Where there are no locks it is not locked: the caller has checked the `.open` marker.
    The lock goes when the block ends."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND)
    try:
        yield fd if try_lock(fd) or not LOCKING else None
    finally:
        os.close(fd)
