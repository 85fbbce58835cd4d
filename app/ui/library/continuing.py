"""Continue a saved session: it becomes the app's current session. Its transcript fills the
main window, its speakers' names come back, and the next Start appends to its journal (on
its timeline, after what it holds). The session that was current is closed, and stays in
the library."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from app.domain.speakers import SpeakerNames
from app.errors import SessionBusy
from app.services.journal import Journal
from app.services.library import SessionLibrary, SessionState
from app.services.restore import SessionRestore

if TYPE_CHECKING:
    from app.ui.controller import AppController

RECORDED_ELSEWHERE = "another Captionist window is recording it; continue it once that has stopped"


class NotNow(Exception):
    """The app cannot switch sessions at the moment (it is captioning)."""


def captioning(app: AppController) -> bool:
    return app.starting or (app.service is not None and app.service.running)


def is_current(app: AppController, library: SessionLibrary, session_id: str) -> bool:
    """Is `session_id` the session the app is writing (its journal open)?"""
    journal = app.journal
    if journal is None or journal.closed or journal.path.stem != session_id:
        return False
    return journal.path.parent.resolve() == library.directory.resolve()


async def continue_session(app: AppController, library: SessionLibrary, session_id: str) -> str:
    """Make `session_id` the current session; what to tell the user. NotNow while captioning,
    SessionBusy while another instance records it, SessionNotFound if it is gone."""
    if captioning(app):
        raise NotNow("Stop captioning first: the session being captioned stays the current one.")
    if is_current(app, library, session_id):
        return "This is already the current session."
    summary = await asyncio.to_thread(library.summary, session_id)
    if summary.state is SessionState.RECORDING:
        raise SessionBusy(session_id, RECORDED_ELSEWHERE)
    contents = await asyncio.to_thread(library.open, session_id)
    if captioning(app):  # a Start pressed while the journal was read
        raise NotNow("Stop captioning first: the session being captioned stays the current one.")
    earlier = app.journal
    # Opened before anything else changes: from here on its writer holds the journal's lock.
    journal = Journal(contents.path)
    if not journal.exclusive:  # recording began elsewhere, or the library is moving it
        journal.close()
        raise SessionBusy(session_id, RECORDED_ELSEWHERE)
    app.journal = journal
    app.files.restorer = SessionRestore()
    app.model.clear()
    app.model.extend(contents.segments)  # the finals: turns and corrections as captured
    app.naming.names = SpeakerNames()
    app.naming.merge(contents.names)
    app.window.set_interim("")
    if earlier is not None and not earlier.closed:
        await earlier.aclose()
    return f"Continuing “{contents.title}”: the next Start adds to it."
