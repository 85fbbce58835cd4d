"""Failover: a session on the cloud provider that moves to the local engine when it fails.

The session keeps the audio since the end of the last final. When the provider fails it opens
a local session, replays that audio (no word in flight is lost, none is doubled), tells the
client with a `Warning` (PROVIDER_FAILOVER) and goes on. Meanwhile it probes the provider; once
a probe connects it fails back at the next utterance end (PROVIDER_FAILBACK), so no utterance
is split between two engines. Each engine times from its own first sample; this session adds
the stream offset at which that engine started, so timestamps stay continuous.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace

import numpy as np

from app.protocol.messages import (
    PROVIDER_FAILBACK,
    PROVIDER_FAILOVER,
    Results,
    ServerMessage,
    provider_switch,
)
from app.protocol.params import StreamParams
from app.protocol.pcm import FloatArray
from app.protocol.timeline import shifted, without_settled_words
from app.server.engines.base import Emit, Engine, EngineSession
from app.server.engines.deepgram import DeepgramEngine, DeepgramSession, ProviderFailure

log = logging.getLogger(__name__)
MAX_PROBE_S = 300.0
REPLAY_LIMIT_S = 120.0
# A replay starts this long before the last final's end: an engine that starts mid-sentence
# mishears the first word without it; the words it repeats from there are dropped.
REPLAY_CONTEXT_S = 1.5


class FailoverSession:
    def __init__(
        self, engine: FailoverEngine, params: StreamParams, emit: Emit, probe_every_s: float
    ) -> None:
        self.engine = engine
        self.params = params
        self.emit = emit
        self.probe_every_s = probe_every_s
        self.rate = params.sample_rate
        self._kept: list[list[FloatArray]] = []  # audio since `_kept_from`, per fed block
        self._kept_from = 0  # stream sample where `_kept` starts
        self._received = 0  # stream samples fed
        self._settled = 0.0  # stream seconds covered by finals
        self._generation = 0
        self._closing = False
        self._probe: asyncio.Task[None] | None = None
        self._ready: DeepgramSession | None = None  # a probe that connected
        self._failovers = 0
        self._live: EngineSession = self._open_primary()
        self.on_primary = True

    # -- engines ---------------------------------------------------------------------------
    def _relay_for(self, generation: int, offset_s: float) -> Emit:
        settled_before = self._settled

        def relay(message: ServerMessage) -> None:
            if generation != self._generation:
                return  # a replaced engine's late words: the replay covers them
            message = shifted(message, offset_s)
            if isinstance(message, Results):
                message = without_settled_words(message, settled_before)
                if message.start < settled_before:  # the part before was final already
                    end = message.start + message.duration
                    message = replace(
                        message, start=settled_before, duration=max(0.0, end - settled_before)
                    )
            if isinstance(message, Results) and message.is_final:
                self._settled = max(self._settled, message.start + message.duration)
                self._trim()
                if message.speech_final and not self.on_primary and self._ready is not None:
                    self.emit(message)
                    self._fail_back()
                    return
            self.emit(message)

        return relay

    def _replay_start(self) -> int:
        """Stream sample where a new engine starts: a little before the last final's end."""
        return max(self._kept_from, round((self._settled - REPLAY_CONTEXT_S) * self.rate), 0)

    def _open_primary(self, session: DeepgramSession | None = None) -> EngineSession:
        self._generation += 1
        offset = self._replay_start() / self.rate
        relay = self._relay_for(self._generation, offset)
        generation = self._generation
        if session is None:
            session = self.engine.primary.open_session(
                self.params, relay, lambda failure: self._primary_failed(generation, failure)
            )
        else:  # a probe connection takes over
            session.emit = relay
            session.on_failure = lambda failure: self._primary_failed(generation, failure)
        self._replay_into(session)
        return session

    def _primary_failed(self, generation: int, failure: ProviderFailure) -> None:
        if generation != self._generation or not self.on_primary:
            return
        log.warning("provider failed (%s): failing over to the local engine", failure)
        old = self._live
        self._generation += 1
        offset = self._replay_start() / self.rate
        self._live = self.engine.fallback.open_session(
            self.params, self._relay_for(self._generation, offset)
        )
        self.on_primary = False
        self._replay_into(self._live)
        old.abort()
        live = f"{self.engine.fallback.name} {self.engine.fallback.model_name} (local)"
        self.emit(provider_switch(PROVIDER_FAILOVER, live, str(failure)))
        self._failovers += 1
        if not self._closing:
            self._probe = asyncio.create_task(self._probe_primary())

    def _fail_back(self) -> None:
        ready, self._ready = self._ready, None
        assert ready is not None
        old = self._live
        self._live = self._open_primary(ready)
        self.on_primary = True
        old.abort()
        live = f"{self.engine.primary.name} {self.engine.primary.model_name}"
        self.emit(provider_switch(PROVIDER_FAILBACK, live, "the provider is back"))

    async def _probe_primary(self) -> None:
        """Connect to the provider now and then; keep the first connection that works."""
        # A provider that keeps failing is tried less and less often (no flapping).
        wait = min(MAX_PROBE_S, self.probe_every_s * 2 ** (self._failovers - 1))
        while not self._closing and not self.on_primary:
            await asyncio.sleep(wait)
            probe = self.engine.primary.open_session(self.params, lambda m: None, lambda f: None)
            if await probe.connected and not self._closing:
                self._ready = probe
                return
            probe.abort()

    # -- audio kept for replays ------------------------------------------------------------
    def _replay_into(self, session: EngineSession) -> None:
        skip = self._replay_start() - self._kept_from
        for block in self._kept:
            if skip >= len(block[0]):
                skip -= len(block[0])
                continue
            session.feed([channel[skip:] for channel in block])
            skip = 0

    def _trim(self) -> None:
        # Keep the replay's context too: trimmed at the last final's end, a replay began
        # exactly there, and an engine that took over mid-word misheard it ("ask" as "lock").
        keep_from = max(
            round((self._settled - REPLAY_CONTEXT_S) * self.rate),
            self._received - int(REPLAY_LIMIT_S * self.rate),
        )
        while self._kept and self._kept_from + len(self._kept[0][0]) <= keep_from:
            self._kept_from += len(self._kept.pop(0)[0])

    # -- EngineSession ---------------------------------------------------------------------
    def feed(self, channels: list[FloatArray]) -> None:
        block = [np.asarray(c, dtype=np.float32) for c in channels]
        self._kept.append(block)
        self._received += len(block[0])
        self._trim()
        self._live.feed(block)

    def finalize(self) -> None:
        self._live.finalize()

    async def close(self) -> None:
        self._closing = True
        while True:  # a failure during close moves the rest to the local engine
            live = self._live
            await live.close()
            if live is self._live:
                break
        self._stop_probe()

    def abort(self) -> None:
        self._closing = True
        self._live.abort()
        self._stop_probe()

    def _stop_probe(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        if self._ready is not None:
            self._ready.abort()
            self._ready = None

    @property
    def backlog_s(self) -> float:
        return self._live.backlog_s


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

    def check_params(self, params: StreamParams) -> None:
        self.fallback.check_params(params)  # a session must be able to fail over

    def open_session(self, params: StreamParams, emit: Emit) -> FailoverSession:
        return FailoverSession(self, params, emit, self.probe_every_s)

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.primary.aclose()
        await self.fallback.aclose()
