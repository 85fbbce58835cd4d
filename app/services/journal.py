"""Autosave: every final segment is appended, flushed and fsync'd as it arrives.

The writes run on one thread of the journal's own, in the order they were asked for: an
fsync can take a long time (a busy or network disk) and the Qt loop must not wait on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from app.domain.journal import (
    JournalRecords,
    decode_journal,
    decode_session,
    encode_edit,
    encode_line,
    encode_rename,
    encode_title,
)
from app.domain.transcript import Segment
from app.errors import AutosaveError, JournalBusy
from app.services.journal_lock import (
    LOCKING,
    lock_for_writing,
    marker_of,
    running_among,
    writer_excluded,
)
from app.services.journal_lock import OPEN_SUFFIX as OPEN_SUFFIX  # where others import it
from app.services.private_files import (
    SESSIONS,
    create_private,
    data_dir,
    private_dir,
    touch_private,
)

log = logging.getLogger(__name__)


def sessions_dir() -> Path:
    return data_dir() / SESSIONS


BUSY = "another Captionist window is writing it; continue it once that has stopped"
MOVED = "it was moved or deleted while it was being opened"


class Journal:
    """An append-only JSON-lines file. A line that cannot be written (a full disk, an I/O
    error) is kept in memory and written first at the next append or `retry`, so the file
    keeps every segment in order once space returns, and never a torn line in between.

    One writer per journal: `Journal.start` makes a new file (O_EXCL: never one another
    process made meanwhile), `Journal(path)` continues one; each takes the journal's lock
    before writing a byte, and holds it until it closes (others see the session running).
    A journal another writer holds is refused with JournalBusy. Where there are no locks
    (Windows) an existing journal is continued without one, as nothing can tell.
    Files are made private: the folder 0700, the journal and its marker 0600.

    The file is touched only by the journal's writer thread. On the event loop, `submit`
    then `await written(...)`, and `aclose`; `append`, `retry` and `close` block instead."""

    def __init__(self, path: Path) -> None:
        """Continue the session journaled at `path` (made if there is none): JournalBusy if
        another writer has it (the file is then left exactly as it was)."""
        private_dir(path.parent)
        fd, made = _open_or_make(path)
        self._open(path, fd, made)

    @classmethod
    def start(cls, directory: Path | None = None, when: datetime | None = None) -> Journal:
        """A new session's journal in `directory` (default: the app's), named by `when`."""
        moment = (when or datetime.now()).strftime("%Y-%m-%dT%H-%M-%S")
        directory = directory or sessions_dir()
        private_dir(directory)
        path = directory / f"{moment}.jsonl"
        suffix = 1
        while True:
            try:
                fd = create_private(path, os.O_RDWR | os.O_APPEND)
                break
            except FileExistsError:  # O_EXCL decides, not a check another process can beat
                suffix += 1
                path = directory / f"{moment}-{suffix}.jsonl"
        journal = cls.__new__(cls)
        journal._open(path, fd, True)
        return journal

    def _open(self, path: Path, fd: int, made: bool) -> None:
        """Become the writer of `fd` (the journal at `path`; `made`: new, empty), or close it
        and raise, having written nothing."""
        marker = marker_of(path)
        try:
            if not lock_for_writing(fd):  # held until the fd closes (or the process dies)
                raise JournalBusy(path.stem, str(path), BUSY)
            if not made:
                if LOCKING and not _same_file(path, fd):
                    raise JournalBusy(path.stem, str(path), MOVED)
                _end_torn_line(fd)  # a continued session's crash may have cut its last line
                _touch(path, fd)  # continued now: in use, whatever retention says of its age
            touch_private(marker)  # touched: the newest marker, where there are no locks
        except BaseException:
            os.close(fd)
            raise
        self.path = path
        self._fd: int | None = fd
        self._marker = marker
        self._pending: list[bytes] = []  # lines not on disk yet, oldest first (writer only)
        self._closing = False
        # One worker: lines reach the disk in the order they were submitted.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self.segments_written = 0

    @property
    def unsaved(self) -> int:
        """Segments waiting for the disk."""
        return len(self._pending)

    def submit(self, segment: Segment) -> Future[None]:
        """Queue `segment` behind every earlier one. The future is done once it is durable,
        or fails with AutosaveError; the segment is then kept and written by a later call."""
        line = encode_line(segment).encode("utf-8")
        return self._run(self._append_lines, line)

    def submit_rename(self, label: str, name: str) -> Future[None]:
        """Queue a speaker's name (empty: no name) behind every earlier line."""
        return self._run(self._append_lines, encode_rename(label, name).encode("utf-8"))

    def submit_title(self, title: str) -> Future[None]:
        """Queue the session's title (empty: back to the first words) behind every earlier
        line: how the running session is renamed (the library refuses a session being written).
        Raises ValueError for a title too long to show."""
        return self._run(self._append_lines, encode_title(title).encode("utf-8"))

    def submit_edit(self, final: Segment, text: str) -> Future[None]:
        """Queue a correction of `final` (its label and start) to `text`; its line keeps the
        words heard."""
        return self._run(self._append_lines, encode_edit(final, text).encode("utf-8"))

    def append(self, segment: Segment) -> None:
        """Durable before it returns: a crash right after loses nothing. Raises AutosaveError
        when it cannot be; the segment is then kept and written by a later call. Blocks:
        the event loop uses `submit` and `written`."""
        self.submit(segment).result()

    def extend(self, segments: Iterable[Segment]) -> None:
        """`append` for many (a restored session): one fsync for all of them."""
        lines = [encode_line(segment).encode("utf-8") for segment in segments]
        self._run(self._append_lines, *lines).result()

    def retry(self) -> None:
        """Write what is pending. Raises AutosaveError if the disk still refuses."""
        self._run(self._write_pending).result()

    def _run(self, job: Callable[..., None], *args: bytes) -> Future[None]:
        if not self._closing:
            with contextlib.suppress(RuntimeError):  # shut down by a close meanwhile
                return self._writer.submit(job, *args)
        refused: Future[None] = Future()
        refused.set_exception(AutosaveError(str(self.path), "the journal is closed"))
        return refused

    def _append_lines(self, *lines: bytes) -> None:
        self._pending.extend(lines)
        self._write_pending()

    def _write_pending(self) -> None:
        if self._fd is None:
            raise AutosaveError(str(self.path), "the journal is closed")
        if not self._pending:
            return
        size = os.fstat(self._fd).st_size
        try:
            _write_all(self._fd, b"".join(self._pending))
            os.fsync(self._fd)
        except OSError as exc:
            # All or nothing: a line written in part would tear the next one.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, size)
            raise AutosaveError(str(self.path), exc.strerror or str(exc)) from exc
        self.segments_written += len(self._pending)
        self._pending.clear()

    def close(self) -> None:
        """Never raises (quitting must not hang on a full disk): what still cannot be written
        is logged, and the session stays marked open so the next start offers it back.
        Blocks until every line submitted before it is written or given up."""
        closing = self._begin_close()
        if closing is not None:
            closing.result()

    async def aclose(self) -> None:
        """`close` for the event loop."""
        closing = self._begin_close()
        if closing is not None:
            await written(closing)

    def _begin_close(self) -> Future[None] | None:
        if self._closing:
            return None
        closing = self._writer.submit(self._close)  # behind every line already submitted
        self._closing = True
        self._writer.shutdown(wait=False)
        return closing

    def _close(self) -> None:
        if self._fd is None:
            return
        try:
            self._write_pending()
        except (AutosaveError, OSError) as exc:
            log.error("%d segments were never saved: %s", len(self._pending), exc)
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = None
        if not self._pending:
            with contextlib.suppress(OSError):
                self._marker.unlink(missing_ok=True)

    @property
    def closed(self) -> bool:
        """No more lines are taken (what was submitted may still be being written)."""
        return self._closing


async def written(job: Future[None]) -> None:
    """Wait for a writer job (`Journal.submit`) without blocking the loop. A cancelled wait
    leaves the job queued: its line is still written, in order."""
    await asyncio.shield(asyncio.wrap_future(job))


def _open_or_make(path: Path) -> tuple[int, bool]:
    """An existing journal's descriptor, or a new one's (made with O_EXCL): and whether it
    was made."""
    for _ in range(10):
        try:
            return os.open(path, os.O_RDWR | os.O_APPEND), False
        except FileNotFoundError:
            pass
        try:
            return create_private(path, os.O_RDWR | os.O_APPEND), True
        except FileExistsError:
            continue  # made meanwhile: open that one
    return os.open(path, os.O_RDWR | os.O_APPEND), False


def _same_file(path: Path, fd: int) -> bool:
    """Is the file opened still the one at `path`? (The library moves a journal under its
    lock: a writer that opened it before, and locked it after, holds a file in the trash.)"""
    try:
        there = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (there.st_dev, there.st_ino) == (opened.st_dev, opened.st_ino)


def _touch(path: Path, fd: int) -> None:
    with contextlib.suppress(OSError):  # only a hint for retention: never a reason to fail
        if os.utime in os.supports_fd:
            os.utime(fd)
        else:
            os.utime(path)


def _end_torn_line(fd: int) -> None:
    """Appends go after a newline: a line cut by a crash is ended, so that the first new
    record is not glued to it (and skipped with it by every reader)."""
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        _write_all(fd, b"\n")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_journal(path: Path) -> list[Segment]:
    return read_session(path)[0]


def read_session(path: Path) -> tuple[list[Segment], dict[str, str]]:
    """A journal's finals and its speakers' names."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        return decode_session(handle)


def read_records(path: Path) -> JournalRecords:
    """Everything a journal holds: finals, speakers' names, title."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        return decode_journal(handle)


def latest_session(directory: Path | None = None, *, besides: Path | None = None) -> Path | None:
    """The newest journal other than `besides` (the running session's own)."""
    directory = directory or sessions_dir()
    journals = (path for path in directory.glob("*.jsonl") if path != besides)
    files = sorted(journals, key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None


def crashed_sessions(directory: Path | None = None, *, at_start: bool = False) -> list[Path]:
    """Journals whose session never closed (the app was killed), oldest first: marked open
    and written by nobody (none holds its lock; where there are no locks, all but the newest
    marked open). `at_start`: the app asks before it writes a journal of its own, and only
    one app runs per data folder, so where there are no locks every marked one crashed."""
    directory = directory or sessions_dir()
    marked = [
        m.with_name(m.name[: -len(OPEN_SUFFIX)]) for m in directory.glob(f"*.jsonl{OPEN_SUFFIX}")
    ]
    marked = [j for j in marked if j.is_file()]
    running = set() if at_start and not LOCKING else running_among(marked)
    return sorted((j for j in marked if j not in running), key=lambda p: p.stat().st_mtime)


def dismiss_crashed(path: Path) -> bool:
    """Offer `path` no more as crashed: its marker goes. Never the marker of a session being
    written (False, nothing done): that one is running, not crashed."""
    with writer_excluded(path) as free:
        if free:
            marker_of(path).unlink(missing_ok=True)
        return free
