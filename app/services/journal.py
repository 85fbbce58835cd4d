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

import platformdirs

from app import APP_NAME
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
from app.errors import AutosaveError
from app.services.journal_lock import LOCKING, try_lock

log = logging.getLogger(__name__)


def sessions_dir() -> Path:
    override = os.environ.get("CAPTIONIST_DATA_DIR")
    base = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))
    return base / "sessions"


OPEN_SUFFIX = ".open"  # beside a journal while its session runs: left behind by a crash


class Journal:
    """An append-only JSON-lines file. A line that cannot be written (a full disk, an I/O
    error) is kept in memory and written first at the next append or `retry`, so the file
    keeps every segment in order once space returns, and never a torn line in between.

    The file is touched only by the journal's writer thread. On the event loop, `submit`
    then `await written(...)`, and `aclose`; `append`, `retry` and `close` block instead."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        _end_torn_line(self._fd)  # a continued session's crash may have cut its last line
        # Held until the fd closes (or the process dies): others see the session running.
        # False where another process holds it (where locks exist): see `exclusive`.
        self.exclusive = try_lock(self._fd) or not LOCKING
        if not self.exclusive:
            log.warning("%s is open in another writer: its lines may interleave", path.name)
        self._marker = path.with_name(path.name + OPEN_SUFFIX)
        self._marker.touch()  # another writer's session keeps its marker: see _close
        self._pending: list[bytes] = []  # lines not on disk yet, oldest first (writer only)
        self._closing = False
        # One worker: lines reach the disk in the order they were submitted.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self.segments_written = 0

    @classmethod
    def start(cls, directory: Path | None = None, when: datetime | None = None) -> Journal:
        moment = (when or datetime.now()).strftime("%Y-%m-%dT%H-%M-%S")
        directory = directory or sessions_dir()
        path = directory / f"{moment}.jsonl"
        suffix = 1
        while path.exists():
            suffix += 1
            path = directory / f"{moment}-{suffix}.jsonl"
        return cls(path)

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
                if self.exclusive:  # the marker of a session another writer holds stays
                    self._marker.unlink(missing_ok=True)

    @property
    def closed(self) -> bool:
        """No more lines are taken (what was submitted may still be being written)."""
        return self._closing


async def written(job: Future[None]) -> None:
    """Wait for a writer job (`Journal.submit`) without blocking the loop. A cancelled wait
    leaves the job queued: its line is still written, in order."""
    await asyncio.shield(asyncio.wrap_future(job))


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


def crashed_sessions(directory: Path | None = None) -> list[Path]:
    """Journals whose session never closed (the app was killed), oldest first."""
    directory = directory or sessions_dir()
    journals = [
        m.with_name(m.name[: -len(OPEN_SUFFIX)]) for m in directory.glob(f"*.jsonl{OPEN_SUFFIX}")
    ]
    return sorted((j for j in journals if j.is_file()), key=lambda p: p.stat().st_mtime)


def dismiss_crashed(path: Path) -> None:
    path.with_name(path.name + OPEN_SUFFIX).unlink(missing_ok=True)
