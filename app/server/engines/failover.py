"""Failover: a session on the cloud provider that moves to the local engine when it fails.

The session keeps the audio since the end of the last final. When the provider fails it opens
a local session, replays that audio (no word in flight is lost, none is doubled), tells the
client with a `Warning` (PROVIDER_FAILOVER) and goes on. Meanwhile it probes the provider; once
a probe connects it fails back at the next utterance end (PROVIDER_FAILBACK), so no utterance
is split between two engines. How a switch goes (the replay, the relay, the warning) is
`switching.SwitchingSession`'s, shared with Auto's model step-down; this module says when.

With `diarize`, the local engine learns the provider's speakers while the provider serves
(`provider_voices`), and labels from them once it takes over: the same voice, the same number.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from app.protocol.messages import PROVIDER_FAILBACK, PROVIDER_FAILOVER, Results
from app.protocol.params import StreamParams
from app.server.asr.speaker_clusters import ClusterSettings
from app.server.engines.base import Emit, Engine, EngineSession, LabellingEngine
from app.server.engines.deepgram import DeepgramEngine, DeepgramSession, ProviderFailure
from app.server.engines.provider_voices import ProviderVoices
from app.server.engines.switching import SwitchingSession, live_name, open_labelling

log = logging.getLogger(__name__)
MAX_PROBE_S = 300.0


class FailoverSession(SwitchingSession):
    def __init__(
        self, engine: FailoverEngine, params: StreamParams, emit: Emit, probe_every_s: float
    ) -> None:
        super().__init__(params, emit)
        self.engine = engine
        self.probe_every_s = probe_every_s
        fallback = engine.fallback
        self._voices: ProviderVoices | None = None
        if params.diarize and isinstance(fallback, LabellingEngine):
            self._voices = ProviderVoices(
                params.channels,
                params.sample_rate,
                fallback.embed_voice,
                self._handover.audio,
                ClusterSettings(max_speakers=params.max_speakers),
            )
        self._probe: asyncio.Task[None] | None = None
        self._ready: DeepgramSession | None = None  # a probe that connected
        self._failovers = 0
        self.on_primary = True
        self._start(self._primary(None))

    # -- engines ---------------------------------------------------------------------------
    def _primary(self, ready: DeepgramSession | None) -> Callable[[Emit], DeepgramSession]:
        def open_primary(relay: Emit) -> DeepgramSession:
            generation = self._handover.generation

            def on_failure(failure: ProviderFailure) -> None:
                self._primary_failed(generation, failure)

            if ready is None:
                return self.engine.primary.open_session(self.params, relay, on_failure)
            ready.emit = relay  # a probe connection takes over
            ready.on_failure = on_failure
            return ready

        return open_primary

    def _open_fallback(self, relay: Emit) -> EngineSession:
        speakers = self._voices.clusters if self._voices is not None else None
        return open_labelling(self.engine.fallback, self.params, relay, speakers)

    # -- when to switch --------------------------------------------------------------------
    def _heard_final(self, final: Results) -> None:
        if self.on_primary and self._voices is not None:
            self._voices.hear(final)

    def _at_utterance_end(self) -> None:
        if not self.on_primary and self._ready is not None:
            if self._ready.failure is not None:
                self._probe_lost(self._ready)  # never fail back onto a dead connection
                return
            self._fail_back()

    def _primary_failed(self, generation: int, failure: ProviderFailure) -> None:
        if generation != self._handover.generation or not self.on_primary:
            return
        log.warning("provider failed (%s): failing over to the local engine", failure)
        self.on_primary = False  # first: the replay's finals are the local engine's
        live = f"{live_name(self.engine.fallback)} (local)"
        self._switch(self._open_fallback, PROVIDER_FAILOVER, live, str(failure))
        self._failovers += 1
        if not self._closing:
            self._probe = asyncio.create_task(self._probe_primary())

    def _fail_back(self) -> None:
        ready, self._ready = self._ready, None
        assert ready is not None
        if self._voices is not None:
            self._voices.restart()  # the new connection numbers the voices afresh
        self.on_primary = True  # first: the replay's finals are the provider's
        live = live_name(self.engine.primary)
        self._switch(self._primary(ready), PROVIDER_FAILBACK, live, "the provider is back")

    async def _probe_primary(self) -> None:
        """Connect to the provider now and then; keep the first connection that works."""
        # A provider that keeps failing is tried less and less often (no flapping).
        wait = min(MAX_PROBE_S, self.probe_every_s * 2 ** (self._failovers - 1))
        while not self._closing and not self.on_primary:
            await asyncio.sleep(wait)
            probe = self.engine.primary.open_session(self.params, lambda m: None, lambda f: None)
            probe.on_failure = lambda failure, probe=probe: self._probe_lost(probe)
            if await probe.connected and not self._closing and probe.failure is None:
                self._ready = probe
                return
            probe.abort()

    def _probe_lost(self, probe: DeepgramSession) -> None:
        """A probe that connected and then dropped: forget it and keep probing."""
        if self._ready is not probe:
            return
        log.info("the provider probe dropped before the fail-back; probing again")
        self._ready = None
        probe.abort()
        if not self._closing and not self.on_primary:
            self._probe = asyncio.create_task(self._probe_primary())

    def _stop_watching(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        if self._ready is not None:
            self._ready.abort()
            self._ready = None
        if self._voices is not None:
            self._voices.cancel()


class FailoverEngine:
    """The provider first, the local engine when it fails."""

    def __init__(
        self, primary: DeepgramEngine, fallback: Engine, *, probe_every_s: float = 15.0
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.probe_every_s = probe_every_s
        self.name = f"{primary.name}+{fallback.name}"
        self.model_name = f"{primary.model_name} / {fallback.model_name}"
        # Auto's choice of local model, if it made one, holds for the failover too.
        self.selection_note: str = fallback.selection_note

    def check_params(self, params: StreamParams) -> None:
        self.primary.check_params(params)
        self.fallback.check_params(params)  # a session must be able to fail over

    def open_session(self, params: StreamParams, emit: Emit) -> FailoverSession:
        return FailoverSession(self, params, emit, self.probe_every_s)

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.primary.aclose()
        await self.fallback.aclose()
