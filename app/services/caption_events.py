"""What a captioning run tells its listener: states, figures and the app's own warnings.
Plain data and callables, no Qt: `app/ui/bridge.py` turns them into Qt signals."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from app.domain.transcript import Segment
from app.protocol.messages import Warning

# Warnings of the app's own, beside the server's: the autosave journal failed, or works again.
AUTOSAVE_FAILED = "AUTOSAVE_FAILED"
AUTOSAVE_RESUMED = "AUTOSAVE_RESUMED"


def autosave_failed_message(reason: str) -> str:
    return f"Autosave failed: {reason}. Export to keep this transcript."


class CaptionState(Enum):
    IDLE = "Idle"
    LOADING = "Loading model"  # the speech model loads before a Start can stream
    CONNECTING = "Connecting"
    STREAMING = "Captioning"
    RECONNECTING = "Reconnecting"
    PAUSED = "Paused"
    STOPPING = "Finishing"
    ERROR = "Error"

    @property
    def running(self) -> bool:
        """A run is under way (Stop applies); the one definition of it."""
        return self in _RUNNING

    @property
    def busy(self) -> bool:
        """Start waits: a run is under way or the model is loading for one."""
        return self.running or self is CaptionState.LOADING


_RUNNING = frozenset(
    {
        CaptionState.CONNECTING,
        CaptionState.STREAMING,
        CaptionState.RECONNECTING,
        CaptionState.PAUSED,
        CaptionState.STOPPING,
    }
)


@dataclass
class CaptionListener:
    """Plain callables; every default does nothing."""

    state: Callable[[CaptionState, str], None] = lambda state, detail: None
    interim: Callable[[Segment], None] = lambda segment: None
    final: Callable[[Segment], None] = lambda segment: None
    # The server's warnings (an engine switch names the live engine) and the app's own.
    warning: Callable[[Warning], None] = lambda warning: None


@dataclass
class SessionFigures:
    audio_sent_s: float = 0.0
    latency_s: float | None = None  # audio sent minus the end of the latest result
    finals: int = 0
    lost_s: float = 0.0
    echoes_hidden: int = 0  # Both mode: You finals that were the mic hearing the others
    echo_cancelling: str = ""  # Both mode: the sound server's canceller, or the guard only
    engine: str = ""
    model: str = ""
    started: float = field(default_factory=time.monotonic)
