"""Delete, Undo and retention agree (issue 21 §3.4): a deleted session waits in the trash
TRASH_DAYS days from its delete, where Undo can bring it back, and retention never takes it
sooner; Empty trash removes what the user was told about; retention removes expired live
sessions for good (not into the trash) and spares one continued recently, even without a line
added since."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from app.domain.journal import encode_line
from app.domain.transcript import Segment
from app.services.journal import Journal
from app.services.library import TRASH_DAYS, SessionLibrary
from app.ui.library.retention import added_to_since

OLD = "2024-03-04T10-00-00"
OLDER = "2024-02-01T08-15-00"
LINE = encode_line(Segment("words", 0.0, 1.0, "You", True, True))
LONG_AGO = datetime(2024, 3, 5).timestamp()


@pytest.fixture
def sessions(tmp_path: Path) -> Path:
    directory = tmp_path / "data" / "sessions"
    directory.mkdir(parents=True)
    for session_id in (OLD, OLDER):
        path = directory / f"{session_id}.jsonl"
        path.write_text(LINE, encoding="utf-8")
        os.utime(path, (LONG_AGO, LONG_AGO))  # last written when it was recorded
    return directory


@pytest.fixture
def library(sessions: Path) -> Iterator[SessionLibrary]:
    library = SessionLibrary(sessions)
    yield library
    library.close()


def test_retention_never_purges_a_session_the_user_can_still_undo(
    library: SessionLibrary,
) -> None:
    """Deleted a minute ago, started months ago: Undo must still bring it back."""
    library.delete(OLD)
    assert library.apply_retention(30) == [OLDER]  # the live one: expired
    assert library.trashed() == [OLD]
    library.undelete(OLD)
    assert [s.id for s in library.sessions()] == [OLD]


def test_the_trash_is_emptied_trash_days_after_each_delete_whatever_keep_sessions_says(
    library: SessionLibrary, sessions: Path
) -> None:
    library.delete(OLD)
    library.delete(OLDER)
    deleted_long_ago = time.time() - (TRASH_DAYS + 1) * 86400
    stamp = sessions / ".trash" / f"{OLDER}.jsonl.deleted"
    os.utime(stamp, (deleted_long_ago, deleted_long_ago))
    assert library.apply_retention(None) == [OLDER]  # Keep sessions: Forever
    assert library.trashed() == [OLD]
    later = datetime.now() + timedelta(days=TRASH_DAYS, hours=1)
    assert library.purge_expired_trash(now=later) == [OLD]
    assert library.trashed() == [] and not any((sessions / ".trash").iterdir())


def test_a_session_undone_and_deleted_again_gets_its_full_time_in_the_trash(
    library: SessionLibrary, sessions: Path
) -> None:
    library.delete(OLD)
    stamp = sessions / ".trash" / f"{OLD}.jsonl.deleted"
    os.utime(stamp, (LONG_AGO, LONG_AGO))
    library.undelete(OLD)
    assert not (sessions / f"{OLD}.jsonl.deleted").exists()  # no stamp comes back with it
    library.delete(OLD)
    assert library.purge_expired_trash() == []


def test_a_session_in_the_trash_from_an_older_version_gets_its_time_from_now(
    library: SessionLibrary, sessions: Path
) -> None:
    trash = sessions / ".trash"
    trash.mkdir()
    os.replace(sessions / f"{OLD}.jsonl", trash / f"{OLD}.jsonl")  # no stamp: when?
    assert library.purge_expired_trash() == []
    assert library.trashed() == [OLD]
    later = datetime.now() + timedelta(days=TRASH_DAYS, hours=1)
    assert library.purge_expired_trash(now=later) == [OLD]


def test_empty_trash_removes_only_the_sessions_the_user_was_told_about(
    library: SessionLibrary, sessions: Path
) -> None:
    library.delete(OLD)
    told = library.trashed()
    library.delete(OLDER)  # meanwhile, in another window
    assert library.purge_trash(told) == 1
    assert library.trashed() == [OLDER]
    assert library.purge_trash() == 1 and library.trashed() == []


def test_retention_removes_expired_live_sessions_for_good_not_into_the_trash(
    library: SessionLibrary,
) -> None:
    assert library.apply_retention(30) == [OLDER, OLD]
    assert library.sessions() == [] and library.trashed() == []


def test_a_session_continued_without_a_new_line_counts_as_recently_continued(
    library: SessionLibrary, sessions: Path
) -> None:
    journal = Journal(sessions / f"{OLD}.jsonl")  # Continue this session, then quit
    journal.close()
    expired = library.expired(30)
    assert [s.id for s in expired] == [OLDER, OLD]
    assert added_to_since(library, expired, 30) == {OLD}
