"""The current session: its journal, words, speakers' names, engine and runs (no Qt)."""

from app.services.session.continuing import NotNow, continue_session
from app.services.session.core import CurrentSession
from app.services.session.engine_host import EngineChoice, EngineHost
from app.services.session.events import Meter, SessionListener

__all__ = [
    "CurrentSession",
    "EngineChoice",
    "EngineHost",
    "Meter",
    "NotNow",
    "SessionListener",
    "continue_session",
]
