"""Test doubles of the engine port (`Engine`), for tests of the parts around it. Sources:
`tests/fake_sources.py`; the OS keyring: `tests/fake_keyring.py`."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from app.errors import ParamError
from app.protocol.messages import Error, Results, ServerMessage, Word
from app.protocol.params import StreamParams
from app.protocol.pcm import FloatArray
from app.server.engines.base import Emit
from app.server.handler import BACKPRESSURE_S

if TYPE_CHECKING:
    pass


class ScriptedSession:
    """Emits one interim per fed frame and one final word per second of audio on close."""

    def __init__(self, engine: ScriptedEngine, params: StreamParams, emit: Emit) -> None:
        self.engine = engine
        self.params = params
        self.emit = emit
        self.samples = 0
        self.closed = False
        self.aborted = False
        engine.sessions.append(self)

    @property
    def seconds(self) -> float:
        return self.samples / self.params.sample_rate

    def feed(self, channels: list[FloatArray]) -> None:
        self.samples += len(channels[0])
        self.emit(Results(f"heard {self.seconds:.1f}", False, False, 0.0, self.seconds))

    def finalize(self) -> None:
        self._final(from_finalize=True)

    def _final(self, *, from_finalize: bool) -> None:
        words = tuple(
            Word(w, i, i + 1.0) for i, w in enumerate(self.engine.words[: int(self.seconds)])
        )
        text = " ".join(w.word for w in words)
        self.emit(
            Results(text, True, True, 0.0, self.seconds, words=words, from_finalize=from_finalize)
        )

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await asyncio.sleep(0)
        self._final(from_finalize=False)

    def abort(self) -> None:
        self.aborted = True

    @property
    def backlog_s(self) -> float:
        return 0.0


class ScriptedEngine:
    name = "scripted"
    model_name = "script"
    selection_note = ""

    def __init__(self, words: list[str] | None = None) -> None:
        self.words = words or [f"w{i}" for i in range(1000)]
        self.sessions: list[ScriptedSession] = []

    def check_params(self, params: StreamParams) -> None:
        if params.language not in ("en", "en-US"):
            raise ParamError("language", params.language, "scripted engine speaks English")

    def open_session(self, params: StreamParams, emit: Emit) -> ScriptedSession:
        return ScriptedSession(self, params, emit)

    async def aclose(self) -> None:
        return None


class ClockSession:
    """Names each whole second of stream audio: a final "s<k>" as soon as second k is in.

    Seconds are counted on the stream's clock (the client's `stream_offset` plus the audio
    received); a connection that resumes mid-second names only the seconds wholly inside it.
    Timestamps are this connection's, as a real server's are. A transcript of "s0 s1 ...
    s<n>" with nothing missing or doubled proves a reconnect lost no word.
    """

    def __init__(self, engine: ClockEngine, params: StreamParams, emit: Emit) -> None:
        self.params = params
        self.emit = emit
        self.samples = 0
        # The next stream second to name: the first that begins inside this connection.
        self.next_second = math.ceil(params.stream_offset_s - 1e-9)
        engine.sessions.append(self)

    def feed(self, channels: list[FloatArray]) -> None:
        self.samples += len(channels[0])
        received_until = self.params.stream_offset_s + self.samples / self.params.sample_rate
        while self.next_second + 1 <= received_until + 1e-9:
            self._final(self.next_second)
            self.next_second += 1

    def _final(self, second: int) -> None:
        at = second - self.params.stream_offset_s  # this connection's clock
        word = Word(f"s{second}", at + 0.2, at + 0.8)
        self.emit(Results(word.word, True, True, at, 1.0, words=(word,)))

    def finalize(self) -> None:
        return None

    async def close(self) -> None:
        await asyncio.sleep(0)

    def abort(self) -> None:
        return None

    @property
    def backlog_s(self) -> float:
        return 0.0


class ClockEngine:
    name = "clock"
    model_name = "seconds"
    selection_note = ""

    def __init__(self) -> None:
        self.sessions: list[ClockSession] = []

    def check_params(self, params: StreamParams) -> None:
        return None

    def open_session(self, params: StreamParams, emit: Emit) -> ClockSession:
        return ClockSession(self, params, emit)

    async def aclose(self) -> None:
        return None

    @property
    def audio_received_s(self) -> float:
        return sum(s.samples / s.params.sample_rate for s in self.sessions)


class TalkersEngine(ClockEngine):
    """ClockEngine with two talkers who take turns every second of stream audio: with
    `diarize` each word carries its talker (second k: speaker k % 2), as a diarizing engine
    labels its finals; without it, no word has a speaker."""

    name = "talkers"

    def open_session(self, params: StreamParams, emit: Emit) -> ClockSession:
        def labelled(message: ServerMessage) -> None:
            if isinstance(message, Results) and params.diarize:
                words = tuple(
                    replace(w, speaker=int(params.stream_offset_s + w.start) % 2)
                    for w in message.words
                )
                message = replace(message, words=words)
            emit(message)

        return ClockSession(self, params, labelled)


# -- an engine that "hears" words in the audio itself -------------------------------------
LEVEL_STEP = 100 / 32768  # one word's sample value per level: exact in int16 PCM


def level_audio(
    levels: list[int], seconds_each: float, *, gap_s: float = 0.1, rate: int = 16000
) -> FloatArray:
    """Audio in which word k is `gap_s` of silence, then the constant sample value levels[k];
    each word with its pause lasts `seconds_each`."""
    word, gap = round((seconds_each - gap_s) * rate), round(gap_s * rate)
    silence = np.zeros(gap, dtype=np.float32)
    parts = [[silence, np.full(word, lv * LEVEL_STEP, dtype=np.float32)] for lv in levels]
    return np.concatenate([a for pair in parts for a in pair])


class LevelWordsSession:
    """Hears a word as each run of one constant non-zero sample value, named "w<level>".

    A word already under way when the connection began is misheard as "?", as a real engine
    mishears a word cut at its start. A word is final once it ends (or at close); the final's
    duration runs `overhang_s` past the word, as a real engine's segment times do.
    """

    def __init__(self, engine: LevelWordsEngine, params: StreamParams, emit: Emit) -> None:
        self.engine = engine
        self.params = params
        self.emit = emit
        self.rate = params.sample_rate
        self.samples = 0
        self._runs: list[tuple[int, int]] = [(0, 0)] * params.channels  # (level, start sample)
        self.closed = False
        engine.sessions.append(self)

    @property
    def seconds(self) -> float:
        return self.samples / self.rate

    def feed(self, channels: list[FloatArray]) -> None:
        for index, audio in enumerate(channels):
            levels = np.rint(np.abs(audio) / LEVEL_STEP).astype(np.int64)
            for at in [0, *(np.flatnonzero(np.diff(levels)) + 1).tolist()]:
                level = int(levels[at])
                if level == self._runs[index][0]:
                    continue  # the run goes on from the previous block
                self._end_run(index, self.samples + at)
                self._runs[index] = (level, self.samples + at)
        self.samples += len(channels[0])

    def _end_run(self, channel: int, end: int) -> None:
        level, start = self._runs[channel]
        if level == 0 or end <= start:
            return  # silence
        name = "?" if start == 0 else f"w{level}"
        word = Word(name, start / self.rate, end / self.rate)
        duration = (end - start) / self.rate + self.engine.overhang_s
        self.emit(
            Results(
                name,
                True,
                True,
                word.start,
                duration,
                channel=channel,
                channels=self.params.channels,
                words=(word,),
            )
        )

    def finalize(self) -> None:
        return None

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await asyncio.sleep(0)
        for channel in range(self.params.channels):
            self._end_run(channel, self.samples)
            self._runs[channel] = (0, self.samples)

    def abort(self) -> None:
        self.closed = True

    @property
    def backlog_s(self) -> float:
        return 0.0


class LevelWordsEngine:
    name = "levels"
    model_name = "levels"
    selection_note = ""

    def __init__(self, overhang_s: float = 0.0) -> None:
        self.overhang_s = overhang_s
        self.sessions: list[LevelWordsSession] = []

    def check_params(self, params: StreamParams) -> None:
        return None

    def open_session(self, params: StreamParams, emit: Emit) -> LevelWordsSession:
        return LevelWordsSession(self, params, emit)

    async def aclose(self) -> None:
        return None


class LaggingLevelWordsSession(LevelWordsSession):
    """A LevelWordsSession that, while its engine is `stalled`, only queues what it is fed: its
    backlog grows as a too-slow engine's does. It hears the queue once the stall ends."""

    engine: LaggingLevelWordsEngine

    def __init__(self, engine: LaggingLevelWordsEngine, params: StreamParams, emit: Emit) -> None:
        super().__init__(engine, params, self._hold_late)
        self._queued: list[list[FloatArray]] = []
        self._send = emit
        self._held: list[tuple[float, ServerMessage]] = []  # (due at audio s, final)

    def _hold_late(self, message: ServerMessage) -> None:
        """With `engine.late_by_s`, a final goes out only that long (of audio fed) after its
        last word: a model whose decodes are slow, though its backlog stays small."""
        if isinstance(message, Results) and message.is_final and self.engine.late_by_s:
            end = message.words[-1].end if message.words else message.start + message.duration
            self._held.append((end + self.engine.late_by_s, message))
        else:
            self._send(message)

    def _release(self, everything: bool = False) -> None:
        while self._held and (everything or self._held[0][0] <= self.seconds):
            self._send(self._held.pop(0)[1])

    def feed(self, channels: list[FloatArray]) -> None:
        self.engine.fed_s += len(channels[0]) / self.rate
        self._queued.append(channels)
        if not self.engine.stalled:
            self.catch_up()
        self._release()

    def catch_up(self) -> None:
        queued, self._queued = self._queued, []
        for block in queued:
            super().feed(block)

    async def close(self) -> None:
        self.catch_up()
        await super().close()
        self._release(everything=True)

    def abort(self) -> None:
        self._queued.clear()
        self._held.clear()
        super().abort()

    @property
    def backlog_s(self) -> float:
        return sum(len(block[0]) for block in self._queued) / self.rate


class LaggingLevelWordsEngine(LevelWordsEngine):
    """LevelWordsEngine whose sessions fall behind while `stalled` is set; `languages` limits
    what it serves (None: any), as tiny.en serves English only."""

    def __init__(
        self, model_name: str, *, languages: tuple[str, ...] | None = None, overhang_s: float = 0.0
    ) -> None:
        super().__init__(overhang_s)
        self.model_name = model_name
        self.selection_note = ""
        self.languages = languages
        self.stalled = False
        self.late_by_s = 0.0  # finals this long (of audio) after their last word
        self.fed_s = 0.0  # audio fed to all its sessions
        self.sessions: list[LaggingLevelWordsSession] = []  # type: ignore[assignment]

    def check_params(self, params: StreamParams) -> None:
        if self.languages is not None and params.language not in self.languages:
            raise ParamError("language", params.language, f"{self.model_name} does not serve it")

    def open_session(self, params: StreamParams, emit: Emit) -> LaggingLevelWordsSession:
        return LaggingLevelWordsSession(self, params, emit)


class DyingSession(ScriptedSession):
    """An engine that dies with its queue full: the backlog never drains, and an Error says so."""

    def feed(self, channels: list[FloatArray]) -> None:
        if self.samples == 0:
            asyncio.get_running_loop().call_soon(
                self.emit, Error("ENGINE_ERROR", "the decoder crashed")
            )
        self.samples += len(channels[0])

    @property
    def backlog_s(self) -> float:
        return BACKPRESSURE_S + 1 if self.samples else 0.0


class DyingEngine(ScriptedEngine):
    def open_session(self, params: StreamParams, emit: Emit) -> ScriptedSession:
        return DyingSession(self, params, emit)


class MuteEngine(ClockEngine):
    """A server far behind: it takes the audio and settles nothing (no finals at all)."""

    name = "mute"

    def open_session(self, params: StreamParams, emit: Emit) -> ClockSession:
        return ClockSession(self, params, lambda message: None)


class SlowClockSession(ClockSession):
    """ClockSession that "decodes" at `engine.speed` times real time: received audio waits in
    a backlog, and each second's final comes only once the decoder has reached it."""

    def __init__(self, engine: SlowClockEngine, params: StreamParams, emit: Emit) -> None:
        super().__init__(engine, params, emit)
        self.slow_engine = engine  # its speed may change meanwhile
        self.decoded = 0  # samples
        self._task = asyncio.get_running_loop().create_task(self._decode())

    def feed(self, channels: list[FloatArray]) -> None:
        self.samples += len(channels[0])

    async def _decode(self) -> None:
        rate = self.params.sample_rate
        while True:
            await asyncio.sleep(0.05)
            step = round(0.05 * self.slow_engine.speed * rate)
            self.decoded = min(self.samples, self.decoded + step)
            decoded_until = self.params.stream_offset_s + self.decoded / rate
            while self.next_second + 1 <= decoded_until + 1e-9:
                self._final(self.next_second)
                self.next_second += 1

    async def close(self) -> None:
        while self.decoded < self.samples and self.slow_engine.speed > 0:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        self._task.cancel()

    def abort(self) -> None:
        self._task.cancel()

    @property
    def backlog_s(self) -> float:
        return (self.samples - self.decoded) / self.params.sample_rate


class SlowClockEngine(ClockEngine):
    """A server slower than the file sent to it, though faster than real time."""

    name = "slow-clock"

    def __init__(self, speed: float) -> None:
        super().__init__()
        self.speed = speed

    def open_session(self, params: StreamParams, emit: Emit) -> ClockSession:
        return SlowClockSession(self, params, emit)
