"""One writer per journal (issue 21 §3.1) and crash detection that honours the journal's lock
(§3.3): a second writer is refused before it writes a byte, a new journal is made with O_EXCL,
and a running session is never taken for a crashed one, by the app or by the library."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from app.domain.journal import encode_line
from app.domain.transcript import Segment
from app.errors import SessionBusy
from app.services.journal import (
    OPEN_SUFFIX,
    Journal,
    crashed_sessions,
    dismiss_crashed,
    read_journal,
)
from app.services.journal_lock import exclusive_append
from app.services.library import SessionLibrary, SessionState

KEPT = encode_line(Segment("kept", 0.0, 1.0, "You", True, True))
MOMENT = datetime(2024, 5, 8, 8, 0, 0)


def marker(journal: Path) -> Path:
    return journal.with_name(journal.name + OPEN_SUFFIX)


def crashed(directory: Path, session_id: str, marked_at: float) -> Path:
    """A journal its app never closed: marked open, nobody writing it."""
    path = directory / f"{session_id}.jsonl"
    path.write_text(KEPT, encoding="utf-8")
    marker(path).touch()
    os.utime(marker(path), (marked_at, marked_at))
    os.utime(path, (marked_at, marked_at))
    return path


# -- one writer per journal ----------------------------------------------------------------


def test_a_second_writer_of_a_journal_is_refused_and_the_first_keeps_its_marker(
    tmp_path: Path,
) -> None:
    path = tmp_path / "2024-01-01T10-00-00.jsonl"
    first = Journal(path)
    first.append(Segment("first", 0.0, 1.0, "You", True, True))
    try:
        with pytest.raises(SessionBusy, match="writing it") as refused:
            Journal(path)  # "Continue this session" while it records elsewhere
        assert refused.value.session_id == path.stem
        assert marker(path).exists()
        first.append(Segment("still mine", 1.0, 2.0, "You", True, True))
    finally:
        first.close()
    assert [s.text for s in read_journal(path)] == ["first", "still mine"]
    assert not marker(path).exists()


def test_a_refused_writer_writes_nothing_not_even_the_end_of_a_torn_line(tmp_path: Path) -> None:
    """The library holds the lock while it titles or moves a session: a writer opening the
    journal then must not end its torn line (or touch anything) beside it."""
    path = tmp_path / "2024-01-01T10-00-00.jsonl"
    path.write_text(KEPT + '{"text": "cut by the cr', encoding="utf-8")
    before = path.read_bytes()
    with exclusive_append(path) as fd:
        assert fd is not None
        with pytest.raises(SessionBusy):
            Journal(path)
    assert path.read_bytes() == before
    assert not marker(path).exists()


def test_a_new_journal_never_opens_one_that_appeared_since_its_name_was_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process makes the same name between a check and an open: O_EXCL, not a check,
    decides, and the other's journal is left as it was."""
    other = tmp_path / "2024-05-08T08-00-00.jsonl"
    other.write_text(KEPT, encoding="utf-8")
    monkeypatch.setattr(Path, "exists", lambda self: False)  # every check loses the race
    journal = Journal.start(tmp_path, when=MOMENT)
    try:
        assert journal.path == tmp_path / "2024-05-08T08-00-00-2.jsonl"
        journal.append(Segment("mine", 0.0, 1.0, "You", True, True))
    finally:
        journal.close()
    assert other.read_text(encoding="utf-8") == KEPT
    assert not marker(other).exists()


def test_without_locks_a_new_journal_is_still_made_with_o_excl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_locks: None
) -> None:
    other = tmp_path / "2024-05-08T08-00-00.jsonl"
    other.write_text(KEPT, encoding="utf-8")
    monkeypatch.setattr(Path, "exists", lambda self: False)
    journal = Journal.start(tmp_path, when=MOMENT)
    journal.close()
    assert journal.path.name == "2024-05-08T08-00-00-2.jsonl"
    assert other.read_text(encoding="utf-8") == KEPT


def test_without_locks_an_existing_journal_is_continued_as_before(
    tmp_path: Path, no_locks: None
) -> None:
    path = tmp_path / "2024-01-01T10-00-00.jsonl"
    path.write_text(KEPT, encoding="utf-8")
    first = Journal(path)
    second = Journal(path)  # nothing can tell: today's behaviour, both write
    second.close()
    first.append(Segment("after", 1.0, 2.0, "You", True, True))
    first.close()
    assert [s.text for s in read_journal(path)] == ["kept", "after"]


def test_a_journal_moved_away_while_it_was_opened_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The library moves a journal to the trash under its lock: a writer that opened the old
    path and gets the lock only after the move must not write into the trash."""
    import app.services.journal as journal_module

    path = tmp_path / "2024-01-01T10-00-00.jsonl"
    path.write_text(KEPT, encoding="utf-8")
    trash = tmp_path / ".trash"
    trash.mkdir()
    real_lock = journal_module.lock_for_writing

    def lock_after_the_move(fd: int) -> bool:
        os.replace(path, trash / path.name)
        return real_lock(fd)

    monkeypatch.setattr(journal_module, "lock_for_writing", lock_after_the_move)
    with pytest.raises(SessionBusy, match="moved"):
        Journal(path)
    assert (trash / path.name).read_text(encoding="utf-8") == KEPT
    assert not path.exists() and not marker(path).exists()


# -- crash detection honours the lock -------------------------------------------------------


def test_a_running_session_is_not_crashed_and_its_marker_is_never_dismissed(
    tmp_path: Path,
) -> None:
    left = crashed(tmp_path, "2024-01-01T10-00-00", 1_700_000_000)
    running = Journal.start(tmp_path, when=MOMENT)
    try:
        assert crashed_sessions(tmp_path) == [left]  # not the running one
        assert dismiss_crashed(running.path) is False
        assert marker(running.path).exists()
        assert dismiss_crashed(left) is True
        assert not marker(left).exists()
        assert crashed_sessions(tmp_path) == []
    finally:
        running.close()


def test_a_second_app_or_the_library_sees_a_running_session_as_recording(
    tmp_path: Path,
) -> None:
    running = Journal.start(tmp_path, when=MOMENT)
    library = SessionLibrary(tmp_path)
    try:
        assert library.summary(running.path.stem).state is SessionState.RECORDING
        assert crashed_sessions(tmp_path) == []
    finally:
        library.close()
        running.close()


def test_without_locks_only_the_newest_session_marked_open_counts_as_running(
    tmp_path: Path, no_locks: None
) -> None:
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    older = crashed(sessions, "2024-01-01T10-00-00", 1_700_000_000)
    old = crashed(sessions, "2024-01-02T10-00-00", 1_700_000_100)
    newest = crashed(sessions, "2023-12-01T10-00-00", 1_700_000_200)  # a continued session
    assert crashed_sessions(sessions) == [older, old]
    assert dismiss_crashed(newest) is False and marker(newest).exists()
    library = SessionLibrary(sessions)
    try:
        states = {s.id: s.state for s in library.sessions()}
        assert states == {
            older.stem: SessionState.CRASHED,
            old.stem: SessionState.CRASHED,
            newest.stem: SessionState.RECORDING,
        }
        with pytest.raises(SessionBusy):
            library.rename(newest.stem, "No")
        with pytest.raises(SessionBusy):
            library.delete(newest.stem)
        assert library.rename(older.stem, "Yes") == "Yes"
        library.delete(older.stem)  # with its marker, into the trash
        library.undelete(older.stem)  # nothing is recorded in the trash: it comes back
        assert library.summary(older.stem).title == "Yes"
        now = datetime(2030, 1, 1)
        assert [s.id for s in library.expired(30, now=now)] == [older.stem, old.stem]
    finally:
        library.close()
    assert dismiss_crashed(old) is True and not marker(old).exists()


def test_without_locks_the_app_at_start_offers_the_newest_crashed_session_too(
    tmp_path: Path, no_locks: None
) -> None:
    """On Windows the newest session marked open counts as running (nothing can tell), so
    the session a crash left behind was not offered at the next start. At start, before it
    writes a journal, with one app per data folder, nothing of this app can be running."""
    older = crashed(tmp_path, "2024-05-08T08-00-00", 1_000_000.0)
    newest = crashed(tmp_path, "2024-05-08T09-00-00", 2_000_000.0)
    assert crashed_sessions(tmp_path) == [older]
    assert crashed_sessions(tmp_path, at_start=True) == [older, newest]
