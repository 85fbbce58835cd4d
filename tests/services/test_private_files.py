"""Private by default (issue 21 §3.2): the data folder, its sessions and trash are 0700 and
every journal, marker and index file in them 0600, whatever the umask; wider ones left by an
older version are narrowed when the library (or the app) starts; an export is private when it
is written inside the data folder, and keeps the user's umask elsewhere."""

from __future__ import annotations

import argparse
import os
import stat
from datetime import datetime
from pathlib import Path

import pytest

from app.commands.sessions import run_sessions
from app.domain.journal import encode_line
from app.domain.transcript import Segment
from app.services.journal import OPEN_SUFFIX, Journal
from app.services.library import SessionLibrary
from app.services.private_files import make_private, write_export

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
LINE = encode_line(Segment("private words", 0.0, 1.0, "You", True, True))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(data: Path) -> dict[str, int]:
    """Every file and folder under `data` (and itself), by its path relative to `data`."""
    found = {".": mode(data)}
    for path in sorted(data.rglob("*")):
        found[str(path.relative_to(data))] = mode(path)
    return found


def test_what_the_app_and_the_library_make_is_private_whatever_the_umask(
    tmp_path: Path, umask: int
) -> None:
    data = tmp_path / "data"  # not there yet: made by the first journal
    sessions = data / "sessions"
    journal = Journal.start(sessions, when=datetime(2024, 5, 8, 8, 0, 0))
    journal.append(Segment("hello", 0.0, 1.0, "You", True, True))
    assert mode(journal.path) == 0o600
    assert mode(journal.path.with_name(journal.path.name + OPEN_SUFFIX)) == 0o600
    journal.close()
    (sessions / "2024-05-09T08-00-00.jsonl").write_text(LINE, encoding="utf-8")
    os.chmod(sessions / "2024-05-09T08-00-00.jsonl", 0o600)
    library = SessionLibrary(sessions)
    try:
        assert len(library.sessions()) == 2  # the index is made
        assert library.search("private")
        library.rename("2024-05-09T08-00-00", "Mine")
        library.delete("2024-05-09T08-00-00")  # the trash is made
    finally:
        library.close()
    found = modes(data)
    assert "library.sqlite" in found and "sessions/.trash" in found
    for name, seen in found.items():
        expected = 0o700 if (data / name).is_dir() else 0o600
        assert seen == expected, f"{name}: {oct(seen)}"


def test_an_index_rebuilt_after_damage_is_private(tmp_path: Path, umask: int) -> None:
    sessions = tmp_path / "data" / "sessions"
    sessions.mkdir(parents=True, mode=0o700)
    (sessions / "2024-05-09T08-00-00.jsonl").write_text(LINE, encoding="utf-8")
    index = tmp_path / "data" / "library.sqlite"
    index.write_bytes(b"not a database at all" * 100)
    os.chmod(index, 0o600)
    library = SessionLibrary(sessions)
    try:
        assert len(library.sessions()) == 1  # rebuilt
    finally:
        library.close()
    assert mode(index) == 0o600


def wide_data_folder(tmp_path: Path) -> Path:
    """What an older version left: folders 0755, files 0644."""
    data = tmp_path / "data"
    trash = data / "sessions" / ".trash"
    trash.mkdir(parents=True)
    files = [
        data / "sessions" / "2024-05-09T08-00-00.jsonl",
        data / "sessions" / f"2024-05-09T08-00-00.jsonl{OPEN_SUFFIX}",
        trash / "2024-05-01T08-00-00.jsonl",
        data / "library.sqlite-wal",
        data / "library.sqlite-shm",
    ]
    for path in files:
        path.write_text(LINE, encoding="utf-8")
        os.chmod(path, 0o644)
    for folder in (data, data / "sessions", trash):
        os.chmod(folder, 0o755)
    return data


def test_wider_modes_left_by_an_older_version_are_narrowed_when_the_library_starts(
    tmp_path: Path,
) -> None:
    data = wide_data_folder(tmp_path)
    SessionLibrary(data / "sessions").close()
    for name, seen in modes(data).items():
        expected = 0o700 if (data / name).is_dir() else 0o600
        assert seen == expected, f"{name}: {oct(seen)}"


def test_make_private_narrows_the_data_folder_says_what_it_changed_and_creates_nothing(
    tmp_path: Path,
) -> None:
    data = wide_data_folder(tmp_path)
    os.chmod(data / "sessions" / "2024-05-09T08-00-00.jsonl", 0o400)  # read-only: stays so
    changed = make_private(data)
    assert data in changed and data / "sessions" / ".trash" in changed
    assert data / "library.sqlite-wal" in changed
    assert mode(data / "sessions" / "2024-05-09T08-00-00.jsonl") == 0o400
    assert make_private(data) == []  # already private
    assert make_private(tmp_path / "none") == [] and not (tmp_path / "none").exists()


def test_an_export_in_the_data_folder_is_private_and_one_elsewhere_keeps_the_umask(
    tmp_path: Path, umask: int
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    inside = data / "exports" / "call.txt"
    inside.parent.mkdir()
    inside.write_text("old", encoding="utf-8")
    os.chmod(inside, 0o644)
    write_export(inside, "transcript\n", data)
    assert inside.read_text(encoding="utf-8") == "transcript\n" and mode(inside) == 0o600
    outside = tmp_path / "Documents" / "call.txt"
    outside.parent.mkdir()
    write_export(outside, "transcript\n", data)
    assert outside.read_text(encoding="utf-8") == "transcript\n"
    assert mode(outside) == 0o666 & ~umask


def test_the_sessions_command_writes_an_export_in_the_data_folder_privately(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int
) -> None:
    data = tmp_path / "data"
    (data / "sessions").mkdir(parents=True)
    (data / "sessions" / "2024-05-09T08-00-00.jsonl").write_text(LINE, encoding="utf-8")
    monkeypatch.setenv("CAPTIONIST_DATA_DIR", str(data))
    out = data / "call.srt"
    args = argparse.Namespace(
        action="export", session_id="2024-05-09T08-00-00", fmt=None, output=out
    )
    assert run_sessions(args) == 0
    assert "private words" in out.read_text(encoding="utf-8")
    assert mode(out) == 0o600
