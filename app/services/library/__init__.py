"""The session library (issue 14): list, open, title, search, delete with undo, export and
retention over the session journals, with a rebuildable SQLite index. No Qt."""

from app.services.library.files import SessionState
from app.services.library.library import (
    TRASH_DAYS,
    SearchHit,
    SessionContents,
    SessionLibrary,
    SessionSummary,
)

__all__ = [
    "TRASH_DAYS",
    "SearchHit",
    "SessionContents",
    "SessionLibrary",
    "SessionState",
    "SessionSummary",
]
