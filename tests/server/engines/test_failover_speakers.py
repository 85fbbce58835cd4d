"""Speaker labels across a Deepgram failover (issue 13 item 3), with real voices.

Two real voices (LJ Speech's reader and a LibriSpeech reader) take turns. The fake Deepgram
labels them as a diarizing provider does (the first voice heard is speaker 0, the next 1),
then stalls; the local engine (tiny.en and the GE2E encoder) takes over. Its finals must go
on carrying speakers, and the same voice must keep the provider's number.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.protocol.messages import PROVIDER_FAILOVER, Results, Warning, Word
from app.protocol.params import StreamParams
from app.protocol.pcm import FloatArray
from app.server.engines.base import Emit
from app.server.engines.deepgram import DeepgramConfig, DeepgramEngine
from app.server.engines.failover import FailoverEngine
from app.server.engines.whisper import WhisperEngine
from app.server.server import ServerConfig, TranscriptionServer
from tests.conftest import run
from tests.fake_deepgram import FakeDeepgram, Faults
from tests.streaming import Received, stream

pytestmark = [pytest.mark.e2e, pytest.mark.model]
RATE = 16000
KEY = "dg-test-key"
SPEED = 2.0  # the provider double costs nothing; the local engine keeps up at twice real time
GAP_S = 1.0
# (file, start, end) of each turn, and whose voice it is: "A" LJ Speech, "B" LibriSpeech 2412.
TURNS = [
    ("pub_ljspeech_session_01", 24.573, 29.678, "A"),
    ("pub_librispeech_session_01", 0.58, 5.5, "B"),
    ("pub_ljspeech_session_01", 39.591, 45.196, "A"),
    ("pub_librispeech_session_01", 24.417, 27.692, "B"),
    # The provider stalls here; the local engine captions the rest.
    ("pub_librispeech_session_01", 13.129, 18.0, "B"),
    ("pub_ljspeech_session_01", 77.036, 81.451, "A"),
]
PROVIDER_TURNS = 4
PROVIDER_NUMBER = {"A": 0, "B": 1}  # the order the provider first heard them in


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    voice: str


def conversation(speech_dir: Path) -> tuple[FloatArray, list[Turn]]:
    parts: list[FloatArray] = []
    turns: list[Turn] = []
    at = 0.0
    for name, start, end, voice in TURNS:
        audio, rate = soundfile.read(str(speech_dir / "audio" / f"{name}.flac"), dtype="float32")
        assert rate == RATE
        speech = np.asarray(audio[round(start * RATE) : round(end * RATE)], dtype=np.float32)
        turns.append(Turn(at, at + len(speech) / RATE, voice))
        parts += [speech, np.zeros(round(GAP_S * RATE), np.float32)]
        at = turns[-1].end + GAP_S
    return np.concatenate(parts), turns


class TrueVoicesSession:
    """The provider's words: one final per turn once it is heard, a word a second, each
    labelled with the turn's speaker number (a diarizer that is always right)."""

    def __init__(self, turns: list[Turn], params: StreamParams, emit: Emit) -> None:
        self.turns = turns
        self.emit = emit
        self.rate = params.sample_rate
        self.samples = 0
        self.said = 0  # turns finalised
        self.settled_s = 0.0

    def feed(self, channels: list[FloatArray]) -> None:
        self.samples += len(channels[0])
        self._say(self.samples / self.rate - 0.3)

    def _say(self, heard_until: float) -> None:
        while self.said < len(self.turns) and self.turns[self.said].end <= heard_until:
            turn = self.turns[self.said]
            count = max(1, round(turn.end - turn.start))
            step = (turn.end - turn.start) / count
            speaker = PROVIDER_NUMBER[turn.voice]
            words = tuple(
                Word(f"{turn.voice.lower()}{self.said}", t, t + step, speaker=speaker)
                for t in (turn.start + k * step for k in range(count))
            )
            end = turn.end + 0.3
            text = " ".join(w.word for w in words)
            start, self.settled_s = self.settled_s, end
            self.emit(Results(text, True, True, start, end - start, words=words))
            self.said += 1

    def finalize(self) -> None:
        return None

    async def close(self) -> None:
        await asyncio.sleep(0)
        self._say(self.samples / self.rate)

    def abort(self) -> None:
        return None

    @property
    def backlog_s(self) -> float:
        return 0.0


class TrueVoicesEngine:
    name = "true-voices"
    model_name = "script"
    selection_note = ""

    def __init__(self, turns: list[Turn]) -> None:
        self.turns = turns

    def check_params(self, params: StreamParams) -> None:
        return None

    def open_session(self, params: StreamParams, emit: Emit) -> TrueVoicesSession:
        return TrueVoicesSession(self.turns, params, emit)

    async def aclose(self) -> None:
        return None


@pytest.fixture(scope="module")
def after_failover(
    whisper_engine: WhisperEngine, speech_dir: Path
) -> tuple[list[Received], list[Turn]]:
    """What the client received, from the failover Warning on, and the turns."""
    audio, turns = conversation(speech_dir)
    last_provider_turn = turns[PROVIDER_TURNS - 1]

    async def scenario() -> list[Received]:
        async with FakeDeepgram(TrueVoicesEngine(turns[:PROVIDER_TURNS]), KEY) as fake:
            # Silent once the last provider turn's final is out.
            fake.faults = Faults(stall_after_s=last_provider_turn.end + 0.8)
            config = DeepgramConfig(api_key=KEY, url=fake.url, stall_timeout_s=1.5)
            engine = FailoverEngine(DeepgramEngine(config), whisper_engine, probe_every_s=1000)
            async with TranscriptionServer(engine, ServerConfig(port=0)) as server:
                return await stream(server.url, audio, speed=SPEED, diarize=True)

    received = run(scenario(), timeout=90)
    switch = next(
        i
        for i, r in enumerate(received)
        if isinstance(r.message, Warning) and r.message.code == PROVIDER_FAILOVER
    )
    provider_finals = [
        r.message
        for r in received[:switch]
        if isinstance(r.message, Results) and r.message.is_final and r.message.words
    ]
    assert len(provider_finals) == PROVIDER_TURNS, "every provider turn was final before"
    return received[switch:], turns


def local_finals(received: list[Received]) -> list[Results]:
    return [
        r.message
        for r in received
        if isinstance(r.message, Results) and r.message.is_final and r.message.words
    ]


def voice_of(final: Results, turns: list[Turn]) -> str:
    """The voice that speaks most of the final's words."""
    votes: dict[str, float] = {}
    for w in final.words:
        for turn in turns:
            overlap = min(w.end, turn.end) - max(w.start, turn.start)
            if overlap > 0:
                votes[turn.voice] = votes.get(turn.voice, 0.0) + overlap
    return max(votes, key=lambda v: votes[v])


def test_the_local_engine_labels_speakers_after_a_failover(
    after_failover: tuple[list[Received], list[Turn]],
) -> None:
    received, _ = after_failover
    finals = local_finals(received)
    assert len(finals) >= 2, finals
    unlabelled = [w for f in finals for w in f.words if w.speaker is None]
    assert not unlabelled, unlabelled


def test_each_voice_keeps_the_providers_number_after_a_failover(
    after_failover: tuple[list[Received], list[Turn]],
) -> None:
    received, turns = after_failover
    finals = local_finals(received)
    heard = [(voice_of(f, turns), {w.speaker for w in f.words}, f.transcript) for f in finals]
    assert {voice for voice, _, _ in heard} == {"A", "B"}, heard  # both spoke after it
    expected = [(voice, {PROVIDER_NUMBER[voice]}, text) for voice, _, text in heard]
    assert heard == expected
