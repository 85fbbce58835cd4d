"""Continue a saved session: it becomes the current session. Its transcript and its speakers'
names come back, and the next Start appends to its journal (on its timeline, after what it
holds). The session that was current is closed, and stays in the library."""

from __future__ import annotations

import asyncio

from app.errors import SessionBusy
from app.services.journal import Journal
from app.services.library import SessionLibrary, SessionState
from app.services.session.core import CurrentSession

RECORDED_ELSEWHERE = "another Captionist window is recording it; continue it once that has stopped"
STOP_FIRST = "Stop captioning first: the session being captioned stays the current one."


class NotNow(Exception):
    """The session cannot be switched at the moment (it is captioning)."""

    def __init__(self, message: str = STOP_FIRST) -> None:
        super().__init__(message)


async def continue_session(
    session: CurrentSession, library: SessionLibrary, session_id: str
) -> str:
    """Make `session_id` the current session; what to tell the user. NotNow while captioning,
    SessionBusy while another instance records it, SessionNotFound if it is gone. The caller
    has asked the user about lines the disk refused (`session.unsaved`): they are dropped."""
    if session.running:
        raise NotNow
    if session.is_current(session_id, library.directory):
        return "This is already the current session."
    summary = await asyncio.to_thread(library.summary, session_id)
    if summary.state is SessionState.RECORDING:
        raise SessionBusy(session_id, RECORDED_ELSEWHERE)
    contents = await asyncio.to_thread(library.open, session_id)
    if session.running:  # a Start pressed while the journal was read
        raise NotNow
    earlier = session.journal
    # Opened before anything else changes: from here on its writer holds the journal's lock.
    # JournalBusy (a SessionBusy) if recording began elsewhere meanwhile.
    journal = Journal(contents.path)
    session.adopt(journal, contents.segments, dict(contents.names))
    if earlier is not None and not earlier.closed:
        await earlier.aclose()
    return f"Continuing “{contents.title}”: the next Start adds to it."
