"""The engine port: what the connection handler needs from any transcription backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from app.protocol.messages import ServerMessage
from app.protocol.params import StreamParams
from app.protocol.pcm import FloatArray
from app.server.asr.speaker_clusters import SpeakerClusters

Emit = Callable[[ServerMessage], None]


class EngineSession(Protocol):
    def feed(self, channels: list[FloatArray]) -> None:
        """Audio at the session's sample rate, one array per channel. Never blocks."""

    def finalize(self) -> None:
        """Settle everything heard so far (the client's Finalize)."""

    async def close(self) -> None:
        """Process all audio fed, emit every final, then stop. Idempotent."""

    def abort(self) -> None:
        """Stop now, dropping pending work (the client vanished)."""

    @property
    def backlog_s(self) -> float:
        """Seconds of received audio not yet processed."""


class BackgroundWork(Protocol):
    """Work an engine started for later (Auto's CPU probe); stopped when the engine closes."""

    def cancel(self) -> None: ...


class Engine(Protocol):
    name: str
    model_name: str
    selection_note: str  # why this model runs, when the engine chose it (Auto); else ""

    def check_params(self, params: StreamParams) -> None:
        """Raise ParamError for parameters this engine cannot serve (checked before upgrade)."""

    def open_session(self, params: StreamParams, emit: Emit) -> EngineSession: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class LabellingEngine(Engine, Protocol):
    """A local engine that labels speakers itself and can start from voices already known:
    after a failover, the provider's speakers keep their numbers (`provider_voices`)."""

    def open_session(
        self,
        params: StreamParams,
        emit: Emit,
        speakers: Sequence[SpeakerClusters] | None = None,
    ) -> EngineSession:
        """`speakers`: one channel's clusters each, to label from (and go on teaching)."""

    async def embed_voice(self, audio: FloatArray, rate: int) -> FloatArray:
        """The voice embedding of `audio` (at `rate` Hz), worked out off the event loop."""
