"""What audio an engine that takes over a session is given, with engine doubles (fast).

The doubles hear words in the audio itself (tests.fakes.LevelWordsEngine) and mishear a word
they join midway, as a real engine does: so a replay without enough context before the last
final shows up as a wrong word, not only as a length.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from app.protocol.messages import Results, ServerMessage
from app.protocol.params import StreamParams
from app.server.engines.deepgram import ProviderFailure
from app.server.engines.failover import FailoverEngine
from tests.fakes import LevelWordsEngine, LevelWordsSession, level_audio

RATE = 16000
# README and architecture: a replay starts 1.5 s before the last final's end.
DOCUMENTED_CONTEXT_S = 1.5


class FailingProviderSession(LevelWordsSession):
    """A provider that hears words like LevelWordsSession until it is told to fail."""

    def __init__(
        self,
        engine: LevelWordsEngine,
        params: StreamParams,
        emit: Callable[[ServerMessage], None],
        on_failure: Callable[[ProviderFailure], None],
    ) -> None:
        super().__init__(engine, params, emit)
        self.on_failure = on_failure


class FailingProvider(LevelWordsEngine):
    name = "deepgram"
    model_name = "nova-2"

    def open_session(  # type: ignore[override]
        self,
        params: StreamParams,
        emit: Callable[[ServerMessage], None],
        on_failure: Callable[[ProviderFailure], None],
    ) -> FailingProviderSession:
        return FailingProviderSession(self, params, emit, on_failure)


def test_a_failover_replays_context_from_before_the_last_final() -> None:
    """The local engine must hear the word in flight from its start, not mid-word."""
    # Six 1 s words (0.1 s pause, 0.9 s of word). The provider's finals end 0.2 s past their
    # word, so at the failure its last final (w4) ends at 4.2 s, inside w5 (4.1-5.0 s): a
    # replay from there cuts w5.
    audio = level_audio([1, 2, 3, 4, 5, 6], 1.0)

    async def scenario() -> tuple[list[ServerMessage], LevelWordsEngine]:
        primary, fallback = FailingProvider(overhang_s=0.2), LevelWordsEngine()
        emitted: list[ServerMessage] = []
        engine = FailoverEngine(primary, fallback, probe_every_s=1000)  # type: ignore[arg-type]
        session = engine.open_session(StreamParams(sample_rate=RATE), emitted.append)
        for second in range(5):  # the provider settles w1 ... w4
            session.feed([audio[second * RATE : (second + 1) * RATE]])
        primary.sessions[0].on_failure(ProviderFailure("PROVIDER_CLOSED", "gone"))  # type: ignore[attr-defined]
        session.feed([audio[5 * RATE :]])
        await session.close()
        return emitted, fallback

    emitted, fallback = asyncio.run(scenario())
    finals = [m for m in emitted if isinstance(m, Results) and m.is_final and m.words]
    assert [m.transcript for m in finals] == ["w1", "w2", "w3", "w4", "w5", "w6"]
    ends = [m.words[-1].end for m in finals]
    assert ends == sorted(ends), "a replayed word came out twice or out of order"
    # The fallback heard from 1.5 s before the last final's end (4.2 s) to the end (6 s).
    replayed_s = fallback.sessions[0].seconds
    assert replayed_s == pytest.approx(6.0 - (4.2 - DOCUMENTED_CONTEXT_S), abs=1e-3)
