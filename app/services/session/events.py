"""What the current session tells whoever shows it (the desktop app's controller, a test, a
script). Plain callables, no Qt: `app/ui/bridge.py` turns them into Qt signals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.domain.speakers import SpeakerNames
from app.domain.transcript import Segment
from app.protocol.messages import Warning
from app.services.caption_events import CaptionState


def _ignore(*_: object) -> None:
    return None


@dataclass
class SessionListener:
    """Every default does nothing."""

    state: Callable[[CaptionState, str], None] = _ignore  # the state and what it is about
    interim: Callable[[Segment], None] = _ignore  # a source's line so far ("" clears it)
    final: Callable[[Segment], None] = _ignore  # a final, once the journal has it
    # Server warnings (an engine switch) and the app's own (AUTOSAVE_FAILED / _RESUMED).
    warning: Callable[[Warning], None] = _ignore
    engine: Callable[[str, str | None], None] = _ignore  # the live engine, and why it runs
    names: Callable[[SpeakerNames], None] = _ignore  # the speakers' names changed
    added: Callable[[Sequence[Segment]], None] = _ignore  # a restored session's finals
    reset: Callable[[Sequence[Segment]], None] = _ignore  # another session is now current
    corrected: Callable[[Segment], None] = _ignore  # a final's words corrected by the user
    notice: Callable[[str], None] = _ignore  # a passing note for the status bar


@dataclass(frozen=True)
class Meter:
    """What the window's status bar shows while a run goes on (polled, not pushed)."""

    level: float  # RMS 0..1 of the latest captured block
    latency_s: float | None  # audio sent minus the end of the latest result
    echoes_hidden: int
    echo_cancelling: str
