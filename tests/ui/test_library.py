"""The Library window offscreen, through the whole app's controller (File → Library…): listing
hundreds of saved sessions, opening one read-only, renaming in place, searching and jumping to
a line, delete with undo, exporting every format, continuing a session and captioning into it,
and Keep sessions (asked once, never touching a session the app holds open)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

os.environ.setdefault("QT_API", "pyside6")

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QApplication, QFileDialog, QLineEdit
from pytestqt.qtbot import QtBot

from app.audio.file_source import DecodedAudio
from app.audio.replay import FileReplaySource
from app.domain.export import FORMATS
from app.domain.journal import encode_line, encode_rename, encode_title
from app.domain.transcript import Segment, join_utterances
from app.server.server import ServerConfig, TranscriptionServer
from app.services.journal import OPEN_SUFFIX, Journal, read_records
from app.services.settings import AppSettings, OverlayLook
from app.ui.controller import AppController
from app.ui.library import LibraryWindow
from app.ui.library.hit_delegate import HIT_RANGES_ROLE
from app.ui.library.viewer import SessionViewer
from app.ui.settings.dialog import SettingsDialog
from app.ui.settings_store import SettingsStore
from app.ui.text_highlight import HIGHLIGHT
from tests.conftest import ROOT
from tests.fakes import ScriptedEngine
from tests.formats import assert_export_format
from tests.waiting import until

sys.path.insert(0, str(ROOT / "bench"))
from library import build_library

T = TypeVar("T")
OLD = "2024-03-04T10-00-00"  # long ago: any Keep sessions setting expires it
OLDER = "2024-02-01T08-15-00"
LINES = [
    Segment("Good morning, let's talk", 1.0, 2.0, "Speaker 1", True, False),
    Segment("about the roadmap.", 2.0, 3.5, "Speaker 1", True, True),
    Segment("Sure, the café bill first?", 4.0, 6.0, "You", True, True),
]


def write_session(sessions: Path, session_id: str, lines: list[Segment], *extra: str) -> Path:
    sessions.mkdir(parents=True, exist_ok=True)
    path = sessions / f"{session_id}.jsonl"
    path.write_text("".join([*(encode_line(s) for s in lines), *extra]), encoding="utf-8")
    return path


@pytest.fixture
def sessions(tmp_path: Path) -> Path:
    """A small library: OLD (Speaker 1 named Alice) and OLDER (titled)."""
    directory = tmp_path / "sessions"
    write_session(directory, OLD, LINES, encode_rename("Speaker 1", "Alice"))
    write_session(
        directory,
        OLDER,
        [Segment("Quarterly numbers are in.", 0.5, 2.0, "Others", True, True)],
        encode_title("Finance review"),
    )
    return directory


@pytest.fixture
def app(
    controller: AppController,
    qloop: asyncio.AbstractEventLoop,
) -> Iterator[AppController]:
    yield controller
    box = controller.library.retention.box
    if box is not None:
        box.close()  # a question left unanswered: as "Keep them"
    # What the test left running (an export, a listing) ends before the loop closes.
    qloop.run_until_complete(until(lambda: not controller.tasks, 20, "the library's tasks"))
    for viewer in list(controller.library.viewers.values()):
        viewer.close()
    if controller.library.window is not None:
        controller.library.window.close()
    if controller.session.journal is not None:
        controller.session.journal.close()
    controller.library.close()


def run(qloop: asyncio.AbstractEventLoop, job: Coroutine[Any, Any, T], within: float = 30) -> T:
    return qloop.run_until_complete(asyncio.wait_for(job, within))


def wait(qloop: asyncio.AbstractEventLoop, predicate: Callable[[], T], what: str) -> T:
    return run(qloop, until(predicate, 20, what))


def open_library(app: AppController, qloop: asyncio.AbstractEventLoop, count: int) -> LibraryWindow:
    """As the user does: File → Library… (Ctrl+L), then wait for the list."""
    app.window.library_action.trigger()
    window = app.library.window
    assert window is not None and window.isVisible()
    wait(qloop, lambda: window.sessions_model.rowCount() == count, f"{count} sessions listed")
    return window


def select(window: LibraryWindow, session_id: str) -> None:
    row = window.sessions_model.row_of(session_id)
    assert row is not None, session_id
    window.table.setFocus()
    window.table.setCurrentIndex(window.sessions_model.index(row, 0))


def tone(seconds: float) -> DecodedAudio:
    t = np.arange(int(seconds * 16000)) / 16000
    return DecodedAudio((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)


def test_hundreds_of_sessions_are_listed_newest_first_indexing_shown_once(
    app: AppController, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    ids = build_library(tmp_path / "sessions", 300, 6000)
    shown: list[bool] = []
    library_window = app.library.library_window()
    real = library_window.set_indexing
    library_window.set_indexing = lambda busy: (shown.append(busy), real(busy))  # type: ignore[method-assign]
    window = open_library(app, qloop, 300)
    assert shown == [True, False]  # "Indexing…" while the index was first built
    model = window.sessions_model
    newest = model.session_at(0)
    assert newest is not None and newest.id == ids[-1]
    assert [model.session_at(r).id for r in range(300)] == ids[::-1]  # type: ignore[union-attr]
    titled = next(s for s in model.sessions if s.custom_title)
    row = model.row_of(titled.id)
    assert model.index(row, model.TITLE).data() == titled.title  # type: ignore[arg-type]
    named = next(s for s in model.sessions if s.names)
    speakers = model.index(model.row_of(named.id), model.SPEAKERS).data()  # type: ignore[arg-type]
    assert set(named.names.values()) <= set(speakers.split(", "))
    assert model.index(0, model.DATE).data().startswith(newest.started.strftime("%a %d %b %Y"))
    assert window.note.text() == "300 saved sessions"
    window.close()
    shown.clear()
    window = open_library(app, qloop, 300)  # again: the index is current, nothing to build
    wait(qloop, lambda: len(shown) == 2, "the second listing")
    assert shown == [False, False]


def test_a_session_opens_read_only_with_the_speakers_names(
    app: AppController, qloop: asyncio.AbstractEventLoop, sessions: Path, qtbot: QtBot
) -> None:
    before = (sessions / f"{OLD}.jsonl").read_bytes()
    window = open_library(app, qloop, 2)
    select(window, OLD)
    qtbot.keyClick(window.table, Qt.Key.Key_Return)  # Enter opens the selected session
    viewer = wait(qloop, lambda: app.library.viewers.get(OLD), "the session's window")
    assert isinstance(viewer, SessionViewer) and viewer.isVisible()
    rows = [str(viewer.model.data(viewer.model.index(r))) for r in range(viewer.model.rowCount())]
    assert rows == [
        "[00:01] Alice: Good morning, let's talk about the roadmap.",
        "[00:04] You: Sure, the café bill first?",
    ]
    assert "Alice, You" in viewer.heading.text()
    assert viewer.view.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    assert (sessions / f"{OLD}.jsonl").read_bytes() == before  # reading never writes


def edit_title(window: LibraryWindow, qtbot: QtBot, session_id: str, title: str) -> None:
    """As the user does: select the session, F2, type, Enter."""
    select(window, session_id)
    qtbot.keyClick(window.table, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit) and editor.parent() is window.table.viewport()
    editor.selectAll()
    qtbot.keyClicks(editor, title)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def title_shown(window: LibraryWindow, session_id: str) -> str:
    model = window.sessions_model
    return str(model.index(model.row_of(session_id), model.TITLE).data())  # type: ignore[arg-type]


def test_a_title_is_renamed_in_place_by_an_appended_record(
    app: AppController, qloop: asyncio.AbstractEventLoop, sessions: Path, qtbot: QtBot
) -> None:
    journal = sessions / f"{OLD}.jsonl"
    before = journal.read_bytes()
    window = open_library(app, qloop, 2)
    assert title_shown(window, OLD) == "Good morning, let's talk about the roadmap. Sure…"
    edit_title(window, qtbot, OLD, "Roadmap kick-off")
    wait(qloop, lambda: title_shown(window, OLD) == "Roadmap kick-off", "the new title")
    after = journal.read_bytes()
    assert after.startswith(before)  # appended, never rewritten
    assert read_records(journal).title == "Roadmap kick-off"
    assert window.statusBar().currentMessage() == "Renamed “Roadmap kick-off”"
    edit_title(window, qtbot, OLD, "x" * 500)  # too long: refused, saying why
    wait(qloop, lambda: "Not renamed" in window.statusBar().currentMessage(), "the refusal")
    assert journal.read_bytes() == after and title_shown(window, OLD) == "Roadmap kick-off"


def test_the_apps_own_session_is_titled_through_its_writer(
    app: AppController, qloop: asyncio.AbstractEventLoop, sessions: Path, qtbot: QtBot
) -> None:
    """The library refuses to write a session being recorded: the app's current one is
    titled by its own journal's writer, in order behind its lines."""
    app.session.journal = Journal.start(sessions)
    app.session.journal.append(Segment("today's call", 0, 1, "You", True, True))
    current = app.session.journal.path.stem
    window = open_library(app, qloop, 3)
    assert window.sessions_model.index(0, 0).data().endswith("(current)")
    edit_title(window, qtbot, current, "Today")
    wait(qloop, lambda: title_shown(window, current) == "Today", "the current session titled")
    assert read_records(app.session.journal.path).title == "Today"
    assert app.session.journal.path.with_name(app.session.journal.path.name + OPEN_SUFFIX).exists()


def highlighted_pixels(view: QAbstractItemView) -> int:
    image = view.viewport().grab().toImage()
    target = QColor(HIGHLIGHT)
    return sum(
        image.pixelColor(x, y) == target
        for y in range(0, image.height(), 2)
        for x in range(0, image.width(), 2)
    )


def test_a_search_lists_hits_and_opens_the_session_at_the_line(
    app: AppController, qloop: asyncio.AbstractEventLoop, sessions: Path, qtbot: QtBot
) -> None:
    long = [
        Segment(f"Line {i} of the long meeting.", i * 3.0, i * 3 + 2, "Others", True, True)
        for i in range(1500)
    ]
    long[1234] = Segment("We agreed on the roadmap here.", 3702.0, 3704, "Others", True, True)
    write_session(sessions, "2024-03-05T09-00-00", long)
    window = open_library(app, qloop, 3)
    library = app.library.library
    searches: list[tuple[str, int | None]] = []
    real = library.search

    def counted(typed: str, limit: int | None = None) -> list[Any]:
        searches.append((typed, limit))
        return real(typed, limit)

    library.search = counted  # type: ignore[method-assign]
    qtbot.keyClicks(window.search, "roadmap")  # seven keys, one search once typing pauses
    wait(qloop, lambda: window.hits_model.rowCount() == 2, "two hits")
    assert searches == [("roadmap", 200)]
    assert window.pages.currentWidget() is window.hits
    assert window.note.text() == "2 lines in 2 sessions"
    cells = [[window.hits_model.index(r, c).data() for c in range(4)] for r in range(2)]
    assert cells == [
        ["Mon 04 Mar 2024, 10:00", "0:01", "Alice", "Good morning, let's talk about the roadmap."],
        ["Tue 05 Mar 2024, 09:00", "1:01:42", "Others", "We agreed on the roadmap here."],
    ]
    # The searched word is painted black on yellow where it stands in the line.
    assert window.hits_model.index(1, 3).data(HIT_RANGES_ROLE) == [(17, 7)]
    wait(qloop, lambda: highlighted_pixels(window.hits) > 20, "the word highlighted")
    window.hits.setCurrentIndex(window.hits_model.index(1, 0))
    qtbot.keyClick(window.hits, Qt.Key.Key_Return)
    viewer = wait(qloop, lambda: app.library.viewers.get("2024-03-05T09-00-00"), "the session")
    row = viewer.current_row()
    assert "We agreed on the roadmap here." in viewer.model.data(viewer.model.index(row))
    assert row == viewer.model.row_of_final(window.hits_model.hit_at(1).final) > 0
    assert viewer.view.selectionModel().isRowSelected(row)
    wait(qloop, lambda: viewer.row_shown(row), "the line scrolled into view")
    window.search.clear()  # back to the sessions
    assert window.pages.currentWidget() is window.table


def test_delete_moves_to_the_trash_and_undo_brings_it_back(
    app: AppController, qloop: asyncio.AbstractEventLoop, sessions: Path, qtbot: QtBot
) -> None:
    window = open_library(app, qloop, 2)
    select(window, OLD)
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    wait(qloop, lambda: window.sessions_model.rowCount() == 1, "the row gone")
    assert not (sessions / f"{OLD}.jsonl").exists()
    assert (sessions / ".trash" / f"{OLD}.jsonl").exists()
    assert window.undo_bar.isVisible() and "Good morning" in window.undo_label.text()
    assert window.note.text() == "1 saved session"
    window.undo_button.click()  # the bar's Undo
    wait(qloop, lambda: window.sessions_model.rowCount() == 2, "the session back")
    assert (sessions / f"{OLD}.jsonl").exists() and not window.undo_bar.isVisible()
    assert window.selected_session_id() == OLD
    select(window, OLDER)
    window.delete_action.trigger()
    wait(qloop, lambda: window.sessions_model.rowCount() == 1, "the second delete")
    window.undo_bar.hide()  # as after its ten seconds: Edit → Undo still works
    assert window.undo_action.isEnabled()
    window.undo_action.trigger()
    wait(qloop, lambda: window.sessions_model.rowCount() == 2, "undone from the menu")
    assert not window.undo_action.isEnabled()
    assert app.library.library.trashed() == []


def test_the_current_session_is_not_deleted(
    app: AppController, qloop: asyncio.AbstractEventLoop, sessions: Path
) -> None:
    app.session.journal = Journal.start(sessions)
    window = open_library(app, qloop, 3)
    assert not run(qloop, app.library.delete(app.session.journal.path.stem))
    assert (
        app.session.journal.path.exists()
        and "continue another" in window.statusBar().currentMessage()
    )


def test_a_session_exports_in_every_format_with_names(
    app: AppController,
    qloop: asyncio.AbstractEventLoop,
    sessions: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_library(app, qloop, 2)
    for fmt in FORMATS:
        out = tmp_path / f"old.{fmt}"
        assert run(qloop, app.library.export_to(OLD, out, fmt))
        texts = assert_export_format(out, fmt, title="Captionist transcript")
        assert len(texts) == 2 and "roadmap" in texts[0], fmt
        assert "Alice" in out.read_text(encoding="utf-8"), fmt  # the speaker's name
    # The main window's Export dialog, from the library's Export… button.
    chosen = tmp_path / "picked"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(chosen), "SRT (*.srt)"))
    select(window, OLDER)
    window.statusBar().clearMessage()
    window.export_button.click()
    wait(qloop, lambda: "Exported to" in window.statusBar().currentMessage(), "the SRT written")
    srt = chosen.with_suffix(".srt")
    assert assert_export_format(srt, "srt") == ["Others: Quarterly numbers are in."]
    assert app.store.load_app().export_format == "srt"
    if Path("/dev/full").exists():
        assert not run(qloop, app.library.export_to(OLD, Path("/dev/full"), "txt"))
        assert app.library.error_box is not None
        assert "No space left" in app.library.error_box.text()


def caption_a_file(app: AppController, qloop: asyncio.AbstractEventLoop, seconds: float) -> None:
    async def scenario() -> None:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="k")) as s:
            app.server_ready(s.url, "k", "scripted")
            await app.run(FileReplaySource(Path("more.wav"), speed=10, audio=tone(seconds)))

    run(qloop, scenario(), 60)


def test_a_continued_session_is_current_and_the_next_start_appends_to_its_journal(
    app: AppController, qloop: asyncio.AbstractEventLoop, sessions: Path
) -> None:
    earlier = Journal.start(sessions)  # the session the app had before: closed, kept
    earlier.append(Segment("before the switch", 0, 1, "You", True, True))
    app.session.journal = earlier
    window = open_library(app, qloop, 3)
    select(window, OLD)
    window.continue_button.click()
    wait(
        qloop,
        lambda: app.session.journal is not None and app.session.journal.path.stem == OLD,
        "continued",
    )
    rows = [str(app.model.data(app.model.index(r))) for r in range(app.model.rowCount())]
    assert rows == [
        "[00:01] Alice: Good morning, let's talk about the roadmap.",
        "[00:04] You: Sure, the café bill first?",
    ]
    assert app.session.words.names == {"Speaker 1": "Alice"}
    assert "Continuing" in app.window.statusBar().currentMessage()
    wait(
        qloop,
        lambda: (
            earlier.closed and not earlier.path.with_name(earlier.path.name + OPEN_SUFFIX).exists()
        ),
        "the earlier session closed",
    )
    caption_a_file(app, qloop, 2)
    journal = sessions / f"{OLD}.jsonl"
    records = read_records(journal)
    assert [s.text for s in records.segments] == [s.text for s in LINES] + ["w0 w1"]
    assert records.segments[-1].start >= LINES[-1].end  # after it, on its timeline
    assert records.names == {"Speaker 1": "Alice"}
    assert [s.text for s in app.model.segments][-1] == "w0 w1"
    assert join_utterances(records.segments) == app.model.segments
    wait(qloop, lambda: window.sessions_model.current_id == OLD, "listed as current")


def test_continue_is_refused_while_captioning_and_for_a_session_recorded_elsewhere(
    app: AppController, qloop: asyncio.AbstractEventLoop, sessions: Path
) -> None:
    other = Journal(sessions / f"{OLDER}.jsonl")  # another instance's writer holds it
    try:
        window = open_library(app, qloop, 2)
        assert not run(qloop, app.library.continue_session(OLDER, window))
        assert "another Captionist window is recording it" in window.statusBar().currentMessage()
    finally:
        other.close()
    assert app.session.journal is None and app.model.rowCount() == 0

    async def continue_while_captioning() -> bool:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="k")) as s:
            app.server_ready(s.url, "k", "scripted")
            source = FileReplaySource(Path("a.wav"), speed=2, audio=tone(3))
            captioning = asyncio.ensure_future(app.run(source))
            await until(lambda: source.position_s > 0.2, 20, "captioning under way")
            refused = not await app.library.continue_session(OLD, window)
            app.session.stop()
            await captioning
            return refused

    assert run(qloop, continue_while_captioning(), 60)
    assert "Stop captioning first" in window.statusBar().currentMessage()
    assert app.session.journal is not None and app.session.journal.path.stem != OLD
    assert read_records(sessions / f"{OLD}.jsonl").segments == LINES  # untouched


def test_keep_sessions_asks_once_and_never_touches_an_open_session(
    app: AppController, qloop: asyncio.AbstractEventLoop, sessions: Path
) -> None:
    third = "2024-01-15T12-00-00"
    write_session(sessions, third, [Segment("Old news.", 0, 1, "Others", True, True)])
    continued = "2024-01-20T12-00-00"  # old, but continued (added to) yesterday: kept
    write_session(sessions, continued, [Segment("Picked up again.", 0, 1, "You", True, True)])
    for session_id in (OLD, OLDER, third):  # last written when they were recorded
        started = datetime.strptime(session_id, "%Y-%m-%dT%H-%M-%S").timestamp()
        os.utime(sessions / f"{session_id}.jsonl", (started, started))
    yesterday = (datetime.now() - timedelta(days=1)).timestamp()
    os.utime(sessions / f"{continued}.jsonl", (yesterday, yesterday))
    app.session.journal = Journal(
        sessions / f"{OLDER}.jsonl"
    )  # the app's current session: recording
    viewer = run(qloop, app.library.open_session(OLD))  # read in a window
    assert viewer is not None
    retention = app.library.retention
    app.settings.keep_sessions_days = 30
    app.library.settings_changed()  # as Settings → OK does
    box = wait(qloop, lambda: retention.box, "the question")
    assert box.isVisible() and not box.isModal()
    assert "1 saved session started more than 30 days ago" in box.text()
    assert "Old news." in box.text() and "Finance" not in box.text()
    assert "Picked up" not in box.text()
    assert retention.keep_button is not None
    retention.keep_button.click()  # No: nothing deleted, and the setting back to Forever
    wait(qloop, lambda: retention.box is None, "the answer")
    assert app.store.load_app().keep_sessions_days == 0
    assert (sessions / f"{third}.jsonl").exists()
    app.settings.keep_sessions_days = 30
    app.library.settings_changed()
    box = wait(qloop, lambda: retention.box, "the question, asked again")
    assert retention.delete_button is not None and "1 saved session" in box.text()
    retention.delete_button.click()
    wait(qloop, lambda: not (sessions / f"{third}.jsonl").exists(), "the old session deleted")
    assert app.store.load_app().retention_confirmed
    assert (sessions / f"{OLD}.jsonl").exists()  # read in a window
    assert (sessions / f"{OLDER}.jsonl").exists()  # being recorded
    # Once agreed, later runs (at start, daily) delete without asking again.
    viewer.close()
    wait(qloop, lambda: OLD not in app.library.viewers, "the viewer closed")
    assert run(qloop, retention.apply()) == [OLD]
    assert retention.box is None
    assert (sessions / f"{OLDER}.jsonl").exists()
    assert (sessions / f"{continued}.jsonl").exists()


def test_keep_sessions_is_in_settings(qtbot: QtBot, tmp_path: Path) -> None:
    store = SettingsStore(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    dialog = SettingsDialog(AppSettings(keep_sessions_days=90), OverlayLook(), [])
    qtbot.addWidget(dialog)
    assert dialog.keep_sessions.currentText() == "90 days"
    texts = [dialog.keep_sessions.itemText(i) for i in range(dialog.keep_sessions.count())]
    assert texts == ["Forever", "7 days", "30 days", "90 days", "365 days"]
    dialog.keep_sessions.setCurrentIndex(2)
    app_settings, _ = dialog.result_settings()
    store.save_app(app_settings)
    assert store.load_app().keep_sessions_days == 30
    assert not store.load_app().retention_confirmed
