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
