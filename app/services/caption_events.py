"""What a captioning run tells its listener: states, figures and the app's own warnings.
Plain data and callables, no Qt: `app/ui/bridge.py` turns them into Qt signals."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from app.domain.transcript import Segment

# Warnings of the app's own, beside the server's: the autosave journal failed, or works again.
AUTOSAVE_FAILED = "AUTOSAVE_FAILED"
AUTOSAVE_RESUMED = "AUTOSAVE_RESUMED"


def autosave_failed_message(reason: str) -> str:
    return f"Autosave failed: {reason}. Export to keep this transcript."


class CaptionState(Enum):
    IDLE = "Idle"
    CONNECTING = "Connecting"
    STREAMING = "Captioning"
    RECONNECTING = "Reconnecting"
    PAUSED = "Paused"
    STOPPING = "Finishing"
    ERROR = "Error"


@dataclass
class CaptionListener:
    """Plain callables; every default does nothing."""

    state: Callable[[CaptionState, str], None] = lambda state, detail: None
    interim: Callable[[Segment], None] = lambda segment: None
    final: Callable[[Segment], None] = lambda segment: None
    warning: Callable[[str, str], None] = lambda code, message: None


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
