"""What audio an engine that takes over a session is given, with engine doubles (fast).

The doubles hear words in the audio itself (tests.fakes.LevelWordsEngine) and mishear a word
they join midway, as a real engine does: so a replay without enough context before the last
final shows up as a wrong word, not only as a length.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
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
    selection_note = ""

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


def test_a_failover_in_both_mode_replays_the_lagging_channels_words_in_flight() -> None:
    """Issue 12: one settled time for both channels (the leading one's) cut the other
    channel's word in flight at a failover: it came out misheard."""
    you = level_audio([1, 2, 3, 4, 5, 6, 7], 1.0)  # 1 s words: settled up to 4.0 s at 4.5 s
    # w21 (0.1-1.0 s) is final; w22 (1.1-7.0 s) is in flight, begun long before 4.0 - 1.5 s.
    others = np.concatenate([level_audio([21], 1.0), level_audio([22], 6.0)])
    stereo = np.stack([you, others], axis=1)
    params = StreamParams(sample_rate=RATE, channels=2, multichannel=True)

    async def scenario() -> list[Results]:
        primary, fallback = FailingProvider(), LevelWordsEngine()
        emitted: list[ServerMessage] = []
        engine = FailoverEngine(primary, fallback, probe_every_s=1000)  # type: ignore[arg-type]
        session = engine.open_session(params, emitted.append)
        half = int(4.5 * RATE)
        session.feed([stereo[:half, 0], stereo[:half, 1]])
        primary.sessions[0].on_failure(ProviderFailure("PROVIDER_CLOSED", "gone"))  # type: ignore[attr-defined]
        session.feed([stereo[half:, 0], stereo[half:, 1]])
        await session.close()
        return [m for m in emitted if isinstance(m, Results) and m.is_final and m.words]

    finals = asyncio.run(scenario())
    by_channel = {
        channel: [w.word for m in finals if m.channel == channel for w in m.words]
        for channel in (0, 1)
    }
    assert by_channel[0] == [f"w{k}" for k in range(1, 8)]
    assert by_channel[1] == ["w21", "w22"]  # w22 heard whole by the local engine
