"""The session library (app/services/library): list, open, rename, delete/undo, purge,
retention and search over real journal files, and its index (`<data>/library.sqlite`)."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from app.domain.export import ExportOptions, export
from app.domain.journal import encode_line, encode_rename, encode_title
from app.domain.transcript import Segment, gap_segment, join_utterances
from app.errors import SearchUnavailable, SessionBusy, SessionNotFound
from app.services.journal import OPEN_SUFFIX, Journal, read_records
from app.services.library import SessionLibrary, SessionState
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from library import build_library

MONDAY = "2024-05-06T09-30-00"
TUESDAY = "2024-05-07T14-00-00"
TUESDAY_2 = "2024-05-07T14-00-00-2"

MONDAY_LINES = [
    Segment("Good morning, let's talk", 1.0, 2.0, "Speaker 1", True, False),
    Segment("about the budget.", 2.0, 3.5, "Speaker 1", True, True),
    Segment("Sure, the café bill first?", 4.0, 6.0, "You", True, True),
    gap_segment(6.0, 2.0),
    Segment("Then the roadmap AND the hiring plan.", 8.0, 11.0, "Speaker 2", True, True),
]


def write_journal(directory: Path, session_id: str, lines: list[str]) -> Path:
    path = directory / f"{session_id}.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def sessions(tmp_path: Path) -> Path:
    directory = tmp_path / "data" / "sessions"
    directory.mkdir(parents=True)
    write_journal(
        directory,
        MONDAY,
        [encode_line(s) for s in MONDAY_LINES] + [encode_rename("Speaker 1", "Alice")],
    )
    write_journal(
        directory,
        TUESDAY,
        [
            encode_line(Segment('He said "don\'t" - twice *', 0.5, 1.5, "Others", True, True)),
            encode_title("Weekly sync"),
        ],
    )
    write_journal(directory, TUESDAY_2, [])
    return directory


@pytest.fixture
def library(sessions: Path) -> Iterator[SessionLibrary]:
    library = SessionLibrary(sessions)
    yield library
    library.close()


def journal_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.jsonl"))}


# -- listing and opening ---------------------------------------------------------------------


def test_every_session_is_listed_in_the_order_they_started(library: SessionLibrary) -> None:
    listed = library.sessions()
    assert [s.id for s in listed] == [MONDAY, TUESDAY, TUESDAY_2]
    monday, tuesday, empty = listed
    assert monday.started == datetime(2024, 5, 6, 9, 30)
    assert monday.duration_s == pytest.approx(10.0)
    assert monday.sources == ("Speaker 1", "You", "Speaker 2")
    assert monday.speakers == ("Alice", "You", "Speaker 2")  # shown by the names given
    assert monday.title == "Good morning, let's talk about the budget. Sure…"
    assert not monday.custom_title
    assert monday.segments == 5 and monday.utterances == 4
    assert monday.size == (library.directory / f"{MONDAY}.jsonl").stat().st_size
    assert monday.state is SessionState.CLOSED
    assert (tuesday.title, tuesday.custom_title) == ("Weekly sync", True)
    assert (empty.segments, empty.duration_s, empty.title) == (0, 0.0, "(nothing said)")


def test_a_running_session_and_one_a_crash_left_open_are_told_apart(
    library: SessionLibrary, sessions: Path
) -> None:
    (sessions / f"{TUESDAY}.jsonl{OPEN_SUFFIX}").touch()  # the app died: nobody writes it
    running = Journal.start(sessions, when=datetime(2024, 5, 8, 8, 0, 0))
    try:
        running.append(Segment("live words", 0.0, 1.0, "You", True, True))
        states = {s.id: s.state for s in library.sessions()}
        assert states[TUESDAY] is SessionState.CRASHED
        assert states["2024-05-08T08-00-00"] is SessionState.RECORDING
    finally:
        running.close()
    assert library.summary("2024-05-08T08-00-00").state is SessionState.CLOSED


def test_opening_a_session_reads_its_journal(library: SessionLibrary) -> None:
    opened = library.open(MONDAY)
    assert opened.segments == MONDAY_LINES
    assert opened.names == {"Speaker 1": "Alice"}
    assert opened.utterances == join_utterances(MONDAY_LINES)  # the rows the app shows
    assert opened.utterance_finals == [0, 2, 3, 4]
    assert opened.title == "Good morning, let's talk about the budget. Sure…"
    assert opened.path == library.directory / f"{MONDAY}.jsonl"


@pytest.mark.parametrize("unknown", ["2020-01-01T00-00-00", "../sessions/" + MONDAY, "", "."])
def test_an_unknown_id_is_said_plainly(library: SessionLibrary, unknown: str) -> None:
    with pytest.raises(SessionNotFound, match="no saved session"):
        library.open(unknown)


def test_the_export_of_a_session_is_the_apps_export(library: SessionLibrary) -> None:
    names = {"Speaker 1": "Alice"}
    for fmt in ("txt", "srt", "vtt", "json", "md"):
        expected = export(
            join_utterances(MONDAY_LINES),
            fmt,
            ExportOptions(title="Captionist transcript", names=names),
        )
        assert library.export(MONDAY, fmt) == expected


# -- renaming --------------------------------------------------------------------------------


def test_a_new_title_is_appended_and_the_journal_never_rewritten(
    library: SessionLibrary, sessions: Path
) -> None:
    path = sessions / f"{MONDAY}.jsonl"
    before = path.read_bytes()
    assert library.rename(MONDAY, "  Budget\nreview ") == "Budget review"
    after = path.read_bytes()
    assert after.startswith(before) and after[len(before) :] == b'{"title": "Budget review"}\n'
    assert library.summary(MONDAY).title == "Budget review"
    library.rename(MONDAY, "")  # back to the first words
    assert not library.summary(MONDAY).custom_title
    assert read_records(path).segments == MONDAY_LINES


def test_a_title_after_a_torn_last_line_starts_a_line_of_its_own(
    library: SessionLibrary, sessions: Path
) -> None:
    path = sessions / f"{MONDAY}.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"text": "torn by a cra')  # the app was killed mid-write
    library.rename(MONDAY, "Recovered")
    assert library.open(MONDAY).title == "Recovered"
    assert library.open(MONDAY).segments == MONDAY_LINES


def test_a_session_being_recorded_is_left_alone_and_its_writer_titles_it(
    library: SessionLibrary, sessions: Path
) -> None:
    running = Journal.start(sessions, when=datetime(2024, 5, 8, 8, 0, 0))
    session_id = running.path.stem
    try:
        with pytest.raises(SessionBusy, match="being recorded"):
            library.rename(session_id, "Mine")
        with pytest.raises(SessionBusy):
            library.delete(session_id)
        running.submit_title("Mine").result()  # the app's own session: through its writer
        assert library.summary(session_id).title == "Mine"
    finally:
        running.close()


def test_a_title_too_long_is_refused_saying_why(library: SessionLibrary) -> None:
    with pytest.raises(ValueError, match="at most"):
        library.rename(MONDAY, "x" * 500)


# -- delete, undo, purge, retention ----------------------------------------------------------


def test_a_delete_moves_the_journal_and_its_markers_to_the_trash_and_undo_brings_it_back(
    library: SessionLibrary, sessions: Path
) -> None:
    (sessions / f"{TUESDAY}.jsonl{OPEN_SUFFIX}").touch()  # crashed: it may go
    original = journal_bytes(sessions)
    library.delete(TUESDAY)
    assert not (sessions / f"{TUESDAY}.jsonl").exists()
    assert sorted(p.name for p in (sessions / ".trash").iterdir()) == [
        f"{TUESDAY}.jsonl",
        f"{TUESDAY}.jsonl.deleted",  # when: its TRASH_DAYS in the trash start there
        f"{TUESDAY}.jsonl{OPEN_SUFFIX}",
    ]
    assert [s.id for s in library.sessions()] == [MONDAY, TUESDAY_2]
    assert library.search("don't") == []
    assert library.trashed() == [TUESDAY]

    library.undelete(TUESDAY)
    assert journal_bytes(sessions) == original
    assert (sessions / f"{TUESDAY}.jsonl{OPEN_SUFFIX}").exists()
    assert not (sessions / f"{TUESDAY}.jsonl.deleted").exists()
    assert [s.id for s in library.sessions()] == [MONDAY, TUESDAY, TUESDAY_2]
    assert [h.session_id for h in library.search("don't")] == [TUESDAY]


def test_undo_never_overwrites_a_session_of_the_same_name(
    library: SessionLibrary, sessions: Path
) -> None:
    library.delete(TUESDAY_2)
    write_journal(sessions, TUESDAY_2, [encode_line(Segment("new", 0, 1))])
    with pytest.raises(SessionBusy, match="already"):
        library.undelete(TUESDAY_2)
    with pytest.raises(SessionNotFound):
        library.undelete(MONDAY)  # never deleted


def test_purging_the_trash_removes_what_was_deleted_only(
    library: SessionLibrary, sessions: Path
) -> None:
    library.delete(MONDAY)
    library.delete(TUESDAY)
    assert library.purge_trash() == 2
    assert library.trashed() == [] and not any((sessions / ".trash").iterdir())
    assert [s.id for s in library.sessions()] == [TUESDAY_2]


def test_retention_removes_sessions_older_than_n_days_but_never_a_running_one(
    library: SessionLibrary, sessions: Path
) -> None:
    """A session a crash left open is retired like any other; one being recorded is not, nor
    one deleted just now (in the trash: Undo may still want it)."""
    (sessions / f"{MONDAY}.jsonl{OPEN_SUFFIX}").touch()  # open (crashed): retired too
    running = Journal(sessions / f"{TUESDAY}.jsonl")
    library.delete(TUESDAY_2)  # in the trash and expired: kept till its time there is up
    now = datetime(2024, 5, 8, 15, 0, 0)  # Tuesday's sessions are a day and an hour old
    try:
        assert library.apply_retention(None, now=now) == []  # keep forever
        assert [s.id for s in library.expired(1, now=now)] == [MONDAY]
        assert library.apply_retention(1, now=now) == [MONDAY]
        assert [s.id for s in library.sessions()] == [TUESDAY]
    finally:
        running.close()
    assert library.apply_retention(1, now=now) == [TUESDAY]
    assert library.trashed() == [TUESDAY_2]
    assert library.apply_retention(30, now=now) == []
    with pytest.raises(ValueError, match="at least 1"):
        library.apply_retention(0, now=now)


def test_retention_spares_the_sessions_the_app_holds_open_in_a_window(
    library: SessionLibrary,
) -> None:
    """A session read in the app (not being recorded, so "closed" on disk) is not removed
    under the reader's eyes; the next retention run, once it is closed, removes it."""
    now = datetime(2024, 5, 8, 15, 0, 0)
    assert [s.id for s in library.expired(1, now=now, spare={TUESDAY})] == [MONDAY, TUESDAY_2]
    assert library.apply_retention(1, now=now, spare={TUESDAY}) == [MONDAY, TUESDAY_2]
    assert [s.id for s in library.sessions()] == [TUESDAY]
    assert library.apply_retention(1, now=now) == [TUESDAY]


# -- search ----------------------------------------------------------------------------------


def test_a_search_finds_the_line_and_says_where_it_is(library: SessionLibrary) -> None:
    (hit,) = library.search("budget")
    assert hit.session_id == MONDAY
    assert hit.started == datetime(2024, 5, 6, 9, 30)
    assert hit.start_s == 1.0
    assert (hit.label, hit.speaker) == ("Speaker 1", "Alice")
    assert hit.text == "Good morning, let's talk about the budget."
    opened = library.open(MONDAY)
    assert opened.utterances[hit.row].text == hit.text  # the row a view jumps to
    assert opened.segments[hit.final].start == hit.start_s


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Budget", [MONDAY]),
        ("bud*", [MONDAY]),
        ("cafe", [MONDAY]),  # accents do not matter
        ("roadmap hiring", [MONDAY]),  # every word, anywhere in the line
        ('"hiring plan"', [MONDAY]),
        ('"plan hiring"', []),
        ("AND", [MONDAY]),  # a word, not an operator
        ("don't", [TUESDAY]),
        ("\"don't", [TUESDAY]),
        ("-", []),
        ("*", []),
        ("twice *", [TUESDAY]),
        ("NOT budget", []),  # NOT is a word here, and no line has it
        ("budget OR roadmap", []),
        ("NEAR(budget)", []),
        ("speaker", []),  # labels are not the text
        ("gap", []),  # gap markers are not speech
    ],
)
def test_user_text_never_breaks_a_search(
    library: SessionLibrary, query: str, found: list[str]
) -> None:
    assert [hit.session_id for hit in library.search(query)] == found


def test_a_search_sees_lines_appended_since_and_names_given_since(
    library: SessionLibrary, sessions: Path
) -> None:
    assert library.search("quarterly") == []
    with (sessions / f"{TUESDAY}.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(encode_line(Segment("The quarterly numbers.", 2.0, 3.0, "Others", True, True)))
        handle.write(encode_rename("Others", "Bob"))
    (hit,) = library.search("quarterly")
    assert (hit.session_id, hit.speaker, hit.row) == (TUESDAY, "Bob", 1)


def test_the_search_limit_keeps_the_first_hits_in_order(library: SessionLibrary) -> None:
    assert [h.text for h in library.search("the", limit=2)] == [
        h.text for h in library.search("the")[:2]
    ]


def test_without_fts5_the_list_still_works_and_search_says_why(
    sessions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.services.library.index.fts5_available", lambda _: False)
    library = SessionLibrary(sessions)
    try:
        assert len(library.sessions()) == 3
        with pytest.raises(SearchUnavailable, match="FTS5"):
            library.search("budget")
    finally:
        library.close()


# -- the index -------------------------------------------------------------------------------


def test_the_index_lives_beside_the_sessions_folder_and_rereads_only_changed_journals(
    library: SessionLibrary, sessions: Path
) -> None:
    assert library.refresh() == 3
    assert (sessions.parent / "library.sqlite").is_file()
    assert not list(sessions.glob("*.sqlite*"))
    assert library.refresh() == 0
    with (sessions / f"{MONDAY}.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(encode_title("Changed"))
    assert library.refresh() == 1
    other = SessionLibrary(sessions)  # another process, later: the index on disk is current
    try:
        assert other.refresh() == 0
        assert other.summary(MONDAY).title == "Changed"
    finally:
        other.close()


@pytest.mark.parametrize(
    "damage",
    [
        b"this is not a database at all" * 100,
        b"",  # emptied
        b"SQLite format 3\x00" + b"\xff" * 5000,  # a header and garbage
    ],
)
def test_a_corrupt_index_is_rebuilt_from_the_journals(sessions: Path, damage: bytes) -> None:
    first = SessionLibrary(sessions)
    first.sessions()
    first.close()
    original = journal_bytes(sessions)
    (sessions.parent / "library.sqlite").write_bytes(damage)
    library = SessionLibrary(sessions)
    try:
        assert [s.id for s in library.sessions()] == [MONDAY, TUESDAY, TUESDAY_2]
        assert [h.session_id for h in library.search("budget")] == [MONDAY]
    finally:
        library.close()
    assert journal_bytes(sessions) == original
    sqlite3.connect(sessions.parent / "library.sqlite").execute("PRAGMA quick_check").fetchone()


def test_an_index_damaged_while_open_is_rebuilt(library: SessionLibrary, sessions: Path) -> None:
    library.sessions()
    with sqlite3.connect(sessions.parent / "library.sqlite") as other:
        other.execute("DROP TABLE journals")  # as good as a lost page
    assert [h.session_id for h in library.search("budget")] == [MONDAY]
    assert len(library.sessions()) == 3


def test_an_index_that_cannot_be_written_is_kept_in_memory(sessions: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    library = SessionLibrary(sessions, index_path=blocker / "library.sqlite")
    try:
        assert len(library.sessions()) == 3
        assert [h.session_id for h in library.search("budget")] == [MONDAY]
    finally:
        library.close()


def test_a_missing_sessions_folder_is_an_empty_library_and_nothing_is_created(
    tmp_path: Path,
) -> None:
    library = SessionLibrary(tmp_path / "nothing" / "sessions")
    try:
        assert library.sessions() == [] and library.search("x") == []
    finally:
        library.close()
    assert not (tmp_path / "nothing").exists()


def test_the_data_dir_variable_chooses_the_library(
    sessions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPTIONIST_DATA_DIR", os.fspath(sessions.parent))
    library = SessionLibrary()
    try:
        assert library.directory == sessions and len(library.sessions()) == 3
    finally:
        library.close()


def test_an_unreadable_start_in_the_name_falls_back_to_the_files_time(
    sessions: Path, library: SessionLibrary
) -> None:
    path = write_journal(sessions, "notes", [encode_line(Segment("hand made", 0, 1))])
    moment = datetime(2023, 1, 2, 3, 4, 5)
    os.utime(path, (moment.timestamp(), moment.timestamp()))
    (first,) = [s for s in library.sessions() if s.id == "notes"]
    assert first.started == moment
    assert library.sessions()[0].id == "notes"  # the oldest
    assert library.expired(1, now=moment + timedelta(days=2))[0].id == "notes"


def test_where_there_are_no_locks_a_session_marked_open_is_left_alone(
    library: SessionLibrary, sessions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows has no flock: the `.open` marker alone says a session may be running."""
    monkeypatch.setattr("app.services.journal_lock.LOCKING", False)
    monkeypatch.setattr("app.services.library.files.LOCKING", False)
    monkeypatch.setattr("app.services.journal_lock.try_lock", lambda fd: False)
    (sessions / f"{TUESDAY}.jsonl{OPEN_SUFFIX}").touch()
    assert library.summary(TUESDAY).state is SessionState.RECORDING
    with pytest.raises(SessionBusy):
        library.rename(TUESDAY, "No")
    with pytest.raises(SessionBusy):
        library.delete(TUESDAY)
    assert library.rename(MONDAY, "Yes") == "Yes"  # closed: free to title, delete, bring back
    library.delete(MONDAY)
    library.undelete(MONDAY)
    assert library.summary(MONDAY).title == "Yes"


def test_two_processes_building_the_index_at_once_both_get_the_whole_library(
    tmp_path: Path,
) -> None:
    """The app and `captionist sessions` may share library.sqlite: SQLite orders them."""
    sessions = tmp_path / "sessions"
    ids = build_library(sessions, 120, 6000)
    libraries = [SessionLibrary(sessions) for _ in range(3)]  # a connection each
    try:
        with ThreadPoolExecutor(3) as pool:
            listed = list(pool.map(lambda library: library.sessions(), libraries))
            found = list(pool.map(lambda library: len(library.search("water")), libraries))
        assert all([s.id for s in each] == ids for each in listed)
        assert found[0] > 0 and len(set(found)) == 1
        assert all(library.refresh() == 0 for library in libraries)
    finally:
        for library in libraries:
            library.close()
