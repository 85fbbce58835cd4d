"""Autosave: every final segment is appended, flushed and fsync'd as it arrives."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import platformdirs

from app import APP_NAME
from app.domain.journal import decode_lines, encode_line
from app.domain.transcript import Segment


def sessions_dir() -> Path:
    override = os.environ.get("CAPTIONIST_DATA_DIR")
    base = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))
    return base / "sessions"


OPEN_SUFFIX = ".open"  # beside a journal while its session runs: left behind by a crash


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("a", encoding="utf-8")
        self._marker = path.with_name(path.name + OPEN_SUFFIX)
        self._marker.touch()
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

    def append(self, segment: Segment) -> None:
        """Durable before it returns: a crash right after loses nothing."""
        self._handle.write(encode_line(segment))
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.segments_written += 1

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.close()
            self._marker.unlink(missing_ok=True)

    @property
    def closed(self) -> bool:
        return self._handle.closed


def read_journal(path: Path) -> list[Segment]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        return decode_lines(handle)


def latest_session(directory: Path | None = None) -> Path | None:
    directory = directory or sessions_dir()
    files = sorted(directory.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
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
