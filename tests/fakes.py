"""Test doubles. Each stands for a port (`Engine`) in tests of the parts around it."""

from __future__ import annotations

import asyncio

from app.errors import ParamError
from app.protocol.messages import Results, Word
from app.protocol.params import StreamParams
from app.protocol.pcm import FloatArray
from app.server.engines.base import Emit


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

    The name comes from the stream time (the client's `stream_offset` plus audio received),
    the timestamps from this connection's audio, as a real server's are. A transcript of
    "s0 s1 ... s<n>" with nothing missing or doubled proves a reconnect lost no word.
    """

    def __init__(self, engine: ClockEngine, params: StreamParams, emit: Emit) -> None:
        self.params = params
        self.emit = emit
        self.samples = 0
        self.emitted = 0  # whole seconds of this connection already named
        engine.sessions.append(self)

    def feed(self, channels: list[FloatArray]) -> None:
        self.samples += len(channels[0])
        while (self.emitted + 1) * self.params.sample_rate <= self.samples:
            self._final(self.emitted)
            self.emitted += 1

    def _final(self, second: int) -> None:
        # Only whole stream seconds: a connection resuming mid-second names the next one.
        stream_second = self.params.stream_offset_s + second
        name = f"s{round(stream_second)}"
        word = Word(name, second + 0.2, second + 0.8)
        self.emit(Results(name, True, True, float(second), 1.0, words=(word,)))

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
