"""The engine switch that the provider failover and Auto's model step-down share.

A `SwitchingSession` serves a client's stream from one live engine session and can hand the
stream to another mid-way: the new session opens through the `Handover` (fed the kept audio
again, so no word is lost or doubled), the old one is aborted (muted already: the replay covers
its words in flight), and the client gets a `Warning` that carries the live engine in a field.
Feeding, finalizing, closing and aborting go to whichever session is live.

Subclasses keep only their policy, *when* to switch: `FailoverSession` on a provider failure
and on a probe that connected; `AutoSession` on a growing backlog and at an utterance end with
the fast model caught up. They hear of finals and utterance ends through the hooks below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.protocol.messages import Results, provider_switch
from app.protocol.params import StreamParams
from app.protocol.pcm import FloatArray
from app.server.asr.speaker_clusters import SpeakerClusters
from app.server.engines.base import Emit, Engine, EngineSession, LabellingEngine
from app.server.engines.handover import Handover

# Opens the next live session given the relay its messages must go through.
Opener = Callable[[Emit], EngineSession]


def live_name(engine: Engine) -> str:
    """How a switch warning names an engine: "whisper tiny.en"."""
    return f"{engine.name} {engine.model_name}"


def open_labelling(
    engine: Engine,
    params: StreamParams,
    relay: Emit,
    speakers: Sequence[SpeakerClusters] | None,
) -> EngineSession:
    """A session on `engine`, labelling from `speakers` where it can (a voice keeps its number
    across the switch)."""
    if speakers is not None and isinstance(engine, LabellingEngine):
        return engine.open_session(params, relay, speakers)
    return engine.open_session(params, relay)


class SwitchingSession:
    """An `EngineSession` whose stream can move to another engine: how a switch goes."""

    _live: EngineSession

    def __init__(self, params: StreamParams, emit: Emit) -> None:
        self.params = params
        self.emit = emit
        self._closing = False
        self._handover = Handover(
            params.sample_rate,
            emit,
            self._at_utterance_end,
            channels=params.channels,
            on_final=self._heard_final,
        )

    def _start(self, open_session: Opener) -> None:
        """The first live session: nothing is replaced, so nothing is said."""
        self._live = self._handover.take_over(open_session)

    def _switch(self, open_session: Opener, code: str, live_engine: str, reason: str) -> None:
        """Move the stream to the session `open_session` opens. Set the policy's own state
        first: the replay may already end an utterance, and that asks the policy again."""
        old = self._live
        self._live = self._handover.take_over(open_session)
        old.abort()
        self.emit(provider_switch(code, live_engine, reason))

    # -- the policy's hooks ----------------------------------------------------------------
    def _at_utterance_end(self) -> None:
        """An utterance's final went out: the one moment to switch without splitting one."""

    def _heard_final(self, final: Results) -> None:
        """A final (on the session's clock) while its audio is still kept."""

    def _stop_watching(self) -> None:
        """The session ended: stop whatever watches for a switch (tasks, probes)."""

    # -- EngineSession ---------------------------------------------------------------------
    def feed(self, channels: list[FloatArray]) -> None:
        self._live.feed(self._handover.keep(channels))

    def finalize(self) -> None:
        self._live.finalize()

    async def close(self) -> None:
        self._closing = True
        while True:  # a switch during the close (a provider failure) hands the rest over
            live = self._live
            await live.close()
            if live is self._live:
                break
        self._stop_watching()

    def abort(self) -> None:
        self._closing = True
        self._live.abort()
        self._stop_watching()

    @property
    def backlog_s(self) -> float:
        return self._live.backlog_s
