"""Speaker numbers across engine handovers, with engine doubles (fast).

The doubles hear words in the audio itself (tests.fakes.LevelWordsEngine), and a word's level
is its voice: the provider double numbers voices as Deepgram does (0, 1, ... in the order one
connection hears them), the local double labels them with the real SpeakerClusters from a
"voice print" of the level. Real voices through the real engines: test_failover_speakers.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pytest

from app.protocol.messages import (
    MODEL_STEP_DOWN,
    PROVIDER_FAILBACK,
    PROVIDER_FAILOVER,
    Results,
    ServerMessage,
    Warning,
    Word,
)
from app.protocol.params import StreamParams
from app.protocol.pcm import FloatArray
from app.server.asr.speaker_clusters import SpeakerClusters
from app.server.engines.base import Emit, LabellingEngine
from app.server.engines.deepgram import ProviderFailure
from app.server.engines.failover import FailoverEngine
from app.server.engines.handover import Handover
from app.server.engines.provider_voices import SpeakerRun, speaker_runs
from app.server.engines.stepdown import AutoEngine, StepPolicy
from tests.fakes import (
    LEVEL_STEP,
    LaggingLevelWordsEngine,
    LaggingLevelWordsSession,
    LevelWordsEngine,
    LevelWordsSession,
    level_audio,
)
from tests.waiting import until

RATE = 16000
WORD_S = 2.0  # 1.9 s words: long enough to teach a voice and to found a speaker
DIARIZED = StreamParams(sample_rate=RATE, diarize=True)


def voice_print(level: int) -> FloatArray:
    """Each level its own voice: orthogonal embeddings."""
    return np.eye(256, dtype=np.float32)[level]


def level_of(word: Word) -> int | None:
    return int(word.word[1:]) if word.word.startswith("w") else None  # "?": misheard


class LabellingLevelsEngine(LaggingLevelWordsEngine):
    """A local engine double that labels speakers (a LabellingEngine): each final's voice
    print goes to the channel's SpeakerClusters, the ones it was given if any."""

    def __init__(self, model_name: str = "levels-local") -> None:
        super().__init__(model_name)
        self.embedded = 0  # voice prints asked for by a provider's lessons
        self.given: list[Sequence[SpeakerClusters] | None] = []

    async def embed_voice(self, audio: FloatArray, rate: int) -> FloatArray:
        self.embedded += 1
        return voice_print(int(np.rint(np.max(np.abs(audio)) / LEVEL_STEP)))

    def open_session(  # type: ignore[override]
        self,
        params: StreamParams,
        emit: Emit,
        speakers: Sequence[SpeakerClusters] | None = None,
    ) -> LaggingLevelWordsSession:
        self.given.append(speakers)
        clusters = list(speakers or [SpeakerClusters() for _ in range(params.channels)])

        def labelled(message: ServerMessage) -> None:
            if isinstance(message, Results) and message.is_final and message.words:
                word = message.words[0]
                level = level_of(word)
                embedding = None if level is None else voice_print(level)
                speaker = clusters[message.channel].assign(
                    embedding, word.end - word.start, word.start
                )
                message = replace(message, words=(replace(word, speaker=speaker),))
            emit(message)

        return LaggingLevelWordsSession(self, params, labelled)


class NumberingProviderSession(LevelWordsSession):
    """A diarizing provider: voices numbered in the order this connection hears them."""

    def __init__(
        self,
        engine: NumberingProvider,
        params: StreamParams,
        emit: Emit,
        on_failure: Callable[[ProviderFailure], None],
    ) -> None:
        self.numbers: dict[str, int] = {}
        super().__init__(engine, params, emit)
        self.on_failure = on_failure
        self.failure: ProviderFailure | None = None
        self.connected = asyncio.get_running_loop().create_future()
        self.connected.set_result(engine.accepting)

    @property  # type: ignore[override]
    def emit(self) -> Emit:
        return self._numbered

    @emit.setter
    def emit(self, relay: Emit) -> None:  # the failover hands a probe its relay
        self._relay = relay

    def _numbered(self, message: ServerMessage) -> None:
        if isinstance(message, Results):
            words = tuple(
                replace(w, speaker=self.numbers.setdefault(w.word, len(self.numbers)))
                for w in message.words
            )
            message = replace(message, words=words)
        self._relay(message)


class NumberingProvider(LevelWordsEngine):
    name = "deepgram"
    model_name = "nova-2"
    selection_note = ""

    def __init__(self) -> None:
        super().__init__()
        self.accepting = True  # False: connections (the failover's probes) are refused
        self.sessions: list[NumberingProviderSession] = []  # type: ignore[assignment]

    def open_session(  # type: ignore[override]
        self,
        params: StreamParams,
        emit: Emit,
        on_failure: Callable[[ProviderFailure], None],
    ) -> NumberingProviderSession:
        return NumberingProviderSession(self, params, emit, on_failure)


def words_said(messages: list[ServerMessage]) -> list[tuple[str, int | None]]:
    return [
        (w.word, w.speaker)
        for m in messages
        if isinstance(m, Results) and m.is_final
        for w in m.words
        if w.word != "?"
    ]


def phases(emitted: list[ServerMessage]) -> list[list[ServerMessage]]:
    """The messages between one engine switch (a Warning) and the next."""
    parts: list[list[ServerMessage]] = [[]]
    for message in emitted:
        if isinstance(message, Warning):
            parts.append([])
        else:
            parts[-1].append(message)
    return parts


def test_speaker_runs_join_consecutive_words_of_one_speaker() -> None:
    words = (
        Word("a", 0.0, 0.5, speaker=0),
        Word("b", 0.6, 1.0, speaker=0),
        Word("c", 1.1, 2.0, speaker=1),
        Word("d", 2.1, 2.5),
        Word("e", 2.6, 3.0, speaker=1),
    )
    assert speaker_runs(words) == [
        SpeakerRun(0, 0.0, 1.0),
        SpeakerRun(1, 1.1, 2.0),
        SpeakerRun(1, 2.6, 3.0),
    ]


def test_the_handover_gives_a_finals_audio_until_the_final_lets_it_go() -> None:
    audio = level_audio([1, 2, 3, 4], 1.0)
    seen: list[FloatArray | None] = []
    handover: Handover

    def on_final(final: Results) -> None:
        seen.append(handover.audio(0, final.start, final.start + final.duration))

    handover = Handover(RATE, lambda m: None, channels=1, on_final=on_final)
    session = handover.take_over(lambda relay: LevelWordsEngine().open_session(DIARIZED, relay))
    for offset in range(0, len(audio), RATE // 10):
        session.feed(handover.keep([audio[offset : offset + RATE // 10]]))
    assert len(seen) == 3  # w1 ... w3 ended; w4 runs to the end of the audio
    for level, span in enumerate(seen, start=1):
        assert span is not None and len(span) == round(0.9 * RATE)
        assert np.all(np.rint(span / LEVEL_STEP) == level)
    assert handover.audio(0, 0.1, 1.0) is None  # let go: before the replay's context
    assert handover.audio(0, 3.5, 4.5) is None  # not received yet


def test_the_provider_numbers_go_on_after_a_failover() -> None:
    """Voices 5 and 7 are the provider's 0 and 1; after the failover the local engine labels
    them so too, and a voice the provider never heard (9) gets the next number."""

    async def scenario() -> tuple[list[ServerMessage], LabellingLevelsEngine]:
        primary, local = NumberingProvider(), LabellingLevelsEngine()
        emitted: list[ServerMessage] = []
        engine = FailoverEngine(primary, local, probe_every_s=1000)  # type: ignore[arg-type]
        session = engine.open_session(DIARIZED, emitted.append)
        session.feed([level_audio([5, 7, 5, 7], WORD_S)])
        await until(lambda: local.embedded == 3, 5, "the lessons of three finals")
        primary.sessions[0].on_failure(ProviderFailure("PROVIDER_STALLED", "no reply"))
        session.feed([level_audio([7, 5, 9, 7], WORD_S)])
        await session.close()
        return emitted, local

    emitted, local = asyncio.run(scenario())
    provider, after = phases(emitted)
    assert words_said(provider) == [("w5", 0), ("w7", 1), ("w5", 0)]
    assert words_said(after) == [("w7", 1), ("w7", 1), ("w5", 0), ("w9", 2), ("w7", 1)]
    assert isinstance(local, LabellingEngine) and local.given[0] is not None


def test_after_a_fail_back_the_lessons_follow_the_new_connections_numbers() -> None:
    """Deepgram numbers each connection's voices afresh: after a fail-back the voices the
    client sees are the new connection's, and a second failover keeps those."""

    silence = np.zeros(RATE // 2, np.float32)

    def connected(probe: NumberingProviderSession) -> bool:
        return bool(probe.connected.result())

    async def scenario() -> list[ServerMessage]:
        primary, local = NumberingProvider(), LabellingLevelsEngine()
        emitted: list[ServerMessage] = []
        engine = FailoverEngine(primary, local, probe_every_s=0.01)  # type: ignore[arg-type]
        session = engine.open_session(DIARIZED, emitted.append)
        session.feed([level_audio([5, 7], WORD_S)])  # the provider: 5 is 0 (7 in flight)
        await until(lambda: local.embedded == 1, 5, "a lesson")
        primary.accepting = False  # down: the probes fail
        primary.sessions[0].on_failure(ProviderFailure("PROVIDER_STALLED", "no reply"))
        session.feed([np.concatenate([level_audio([7, 5], WORD_S), silence])])  # local: 7 is 1
        primary.accepting = True
        await until(lambda: any(connected(s) for s in primary.sessions[1:]), 5, "a probe")
        session.feed([level_audio([9, 7, 5, 7], WORD_S)])  # back at 9's end: 7 is 1, 5 is 2
        await until(lambda: local.embedded == 3, 5, "the new connection's lessons")
        primary.sessions[-1].on_failure(ProviderFailure("PROVIDER_STALLED", "no reply"))
        session.feed([level_audio([5, 7], WORD_S)])
        await session.close()
        return emitted

    emitted = asyncio.run(scenario())
    codes = [m.code for m in emitted if isinstance(m, Warning)]
    assert codes == [PROVIDER_FAILOVER, PROVIDER_FAILBACK, PROVIDER_FAILOVER]
    assert words_said(emitted) == [
        ("w5", 0),  # the provider
        *[("w7", 1), ("w7", 1), ("w5", 0), ("w9", 2)],  # local: 7 and 9 are new voices
        *[("w7", 1), ("w5", 2)],  # the provider again: "?" (9's end, replayed) took 0
        *[("w7", 1), ("w5", 2), ("w7", 1)],  # local again, with the new connection's numbers
    ]


@pytest.mark.parametrize("diarize", [True, False])
def test_auto_labels_across_a_step_down_into_the_same_speakers(diarize: bool) -> None:
    policy = StepPolicy(behind_s=1.0, behind_for_s=2.0, check_every_s=1000)
    better, fast = LabellingLevelsEngine("base-double"), LabellingLevelsEngine("tiny-double")
    now = [0.0]
    engine = AutoEngine(better, fast, policy=policy, clock=lambda: now[0])
    audio = level_audio([5, 7, 5, 7, 7, 5, 7, 5], WORD_S)
    frame = RATE // 10

    async def scenario() -> list[ServerMessage]:
        emitted: list[ServerMessage] = []
        params = StreamParams(sample_rate=RATE, diarize=diarize)
        session = engine.open_session(params, emitted.append)
        for offset in range(0, len(audio), frame):
            now[0] = offset / RATE
            better.stalled = now[0] >= 4 * WORD_S  # base falls behind after four words
            session.feed([audio[offset : offset + frame]])
        await session.close()
        return emitted

    emitted = asyncio.run(scenario())
    assert [m.code for m in emitted if isinstance(m, Warning)] == [MODEL_STEP_DOWN]
    if not diarize:
        assert better.given == [None] and fast.given == [None]
        return
    assert fast.given[0] is better.given[0]  # one set of speakers for the session
    heard = words_said(emitted)
    assert heard == [(w, 0 if w == "w5" else 1) for w, _ in heard]
