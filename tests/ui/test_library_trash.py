"""The trash in the Library window, offscreen (issue 21 §3.4): Edit → Empty trash… asks,
naming how many, then removes them for good (nothing is left to undo); the time a deleted
session waits in the trash is said where Delete and Undo are; and the trash is emptied of what
has waited its time even where Keep sessions is Forever."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from app.domain.journal import encode_line
from app.domain.transcript import Segment
from app.services.library import TRASH_DAYS
from app.ui.controller import AppController
from app.ui.library import LibraryWindow
from tests.waiting import until

T = TypeVar("T")
OLD = "2024-03-04T10-00-00"
OLDER = "2024-02-01T08-15-00"


def run(qloop: asyncio.AbstractEventLoop, job: Coroutine[Any, Any, T]) -> T:
    return qloop.run_until_complete(asyncio.wait_for(job, 30))


def wait(qloop: asyncio.AbstractEventLoop, predicate: Callable[[], T], what: str) -> T:
    return run(qloop, until(predicate, 20, what))


@pytest.fixture
def app(controller: AppController, tmp_path: Path) -> Iterator[AppController]:
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    for session_id in (OLD, OLDER):
        line = encode_line(Segment(f"said on {session_id}", 0.0, 1.0, "You", True, True))
        (sessions / f"{session_id}.jsonl").write_text(line, encoding="utf-8")
    yield controller
    if controller.library.window is not None:
        controller.library.window.close()
    controller.library.close()


def library_with_two_deleted(app: AppController, qloop: asyncio.AbstractEventLoop) -> LibraryWindow:
    window = app.library.show()
    wait(qloop, lambda: window.sessions_model.rowCount() == 2, "the sessions listed")
    assert run(qloop, app.library.delete(OLD)) and run(qloop, app.library.delete(OLDER))
    return window


def test_empty_trash_asks_naming_how_many_and_then_nothing_is_left_to_undo(
    app: AppController, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    window = library_with_two_deleted(app, qloop)
    assert f"{TRASH_DAYS} days" in window.undo_label.text()
    assert f"{TRASH_DAYS} days" in window.delete_button.accessibleDescription()
    assert window.undo_action.isEnabled()
    window.empty_trash_action.trigger()  # Edit → Empty trash…, then Cancel: nothing removed
    box = wait(qloop, lambda: window.trash_box, "the question")
    assert "Remove the 2 sessions in the trash for good?" in box.text()
    assert f"{TRASH_DAYS} days" in box.informativeText()
    box.reject()
    wait(qloop, lambda: window.trash_box is None, "the answer")
    assert app.library.library.trashed() == [OLDER, OLD] and window.undo_action.isEnabled()

    window.empty_trash_action.trigger()
    wait(qloop, lambda: window.trash_box, "the question, asked again")
    assert window.trash_remove_button is not None
    assert window.trash_remove_button.text() == "Remove 2 sessions"
    window.trash_remove_button.click()
    wait(qloop, lambda: not any((tmp_path / "sessions" / ".trash").iterdir()), "trash emptied")
    wait(qloop, lambda: not window.undo_action.isEnabled(), "nothing left to undo")
    assert "Removed 2 sessions from the trash" in window.statusBar().currentMessage()
    assert app.library.deleted == []

    window.empty_trash_action.trigger()  # an empty trash: said, nothing asked
    wait(qloop, lambda: "trash is empty" in window.statusBar().currentMessage(), "said empty")
    assert window.trash_box is None


def test_what_waited_its_time_in_the_trash_goes_even_when_keep_sessions_is_forever(
    app: AppController, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    library_with_two_deleted(app, qloop)
    assert app.settings.keep_sessions_days == 0  # Forever
    long_ago = time.time() - (TRASH_DAYS + 1) * 86400
    stamp = tmp_path / "sessions" / ".trash" / f"{OLD}.jsonl.deleted"
    os.utime(stamp, (long_ago, long_ago))
    app.library.retention.check()  # as at start, and daily
    wait(qloop, lambda: app.library.library.trashed() == [OLDER], "the old one purged")
    assert app.library.retention.box is None  # nothing asked: the trash's time is stated
