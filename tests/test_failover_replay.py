"""What audio an engine that takes over a session is given, with clock doubles (fast)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

from app.protocol.messages import Results, ServerMessage
from app.protocol.params import StreamParams
from app.protocol.pcm import FloatArray
from app.server.engines.deepgram import ProviderFailure
from app.server.engines.failover import REPLAY_CONTEXT_S, FailoverEngine
from tests.fakes import ClockEngine, ClockSession

RATE = 16000


class FailingProviderSession(ClockSession):
    """A provider that names seconds like ClockSession until it is told to fail."""

    def __init__(
        self,
        engine: ClockEngine,
        params: StreamParams,
        emit: Callable[[ServerMessage], None],
        on_failure: Callable[[ProviderFailure], None],
    ) -> None:
        super().__init__(engine, params, emit)
        self.on_failure = on_failure


class FailingProvider(ClockEngine):
    name = "deepgram"
    model_name = "nova-2"

    def open_session(  # type: ignore[override]
        self,
        params: StreamParams,
        emit: Callable[[ServerMessage], None],
        on_failure: Callable[[ProviderFailure], None],
    ) -> FailingProviderSession:
        return FailingProviderSession(self, params, emit, on_failure)


def second_of_audio() -> list[FloatArray]:
    return [np.zeros(RATE, dtype=np.float32)]


def test_a_failover_replays_context_from_before_the_last_final() -> None:
    """The local engine must hear the words before the cut, not start mid-word."""

    async def scenario() -> tuple[list[ServerMessage], ClockEngine]:
        primary, fallback = FailingProvider(), ClockEngine()
        emitted: list[ServerMessage] = []
        engine = FailoverEngine(primary, fallback, probe_every_s=1000)  # type: ignore[arg-type]
        session = engine.open_session(StreamParams(sample_rate=RATE), emitted.append)
        for _ in range(5):
            session.feed(second_of_audio())  # the provider settles s0 ... s4
        primary.sessions[0].on_failure(ProviderFailure("PROVIDER_CLOSED", "gone"))  # type: ignore[attr-defined]
        session.feed(second_of_audio())
        await session.close()
        return emitted, fallback

    emitted, fallback = asyncio.run(scenario())
    replayed_s = fallback.sessions[0].samples / RATE
    assert replayed_s == REPLAY_CONTEXT_S + 1.0  # the context, then the new second
    finals = [m for m in emitted if isinstance(m, Results) and m.is_final and m.words]
    ends = [m.words[-1].end for m in finals]
    assert ends == sorted(ends), "a replayed word came out twice or out of order"
    assert [m.transcript for m in finals[:5]] == ["s0", "s1", "s2", "s3", "s4"]
