"""Handing a live session from one engine to another without losing or doubling a word.

Used by the engine switch (`switching.SwitchingSession`) of the provider failover (Deepgram ->
local engine and back) and of Auto's model step down (base -> tiny.en and back). A session
keeps the audio since a little before the end of its last final. The engine that takes over is
fed that audio again; its words are shifted onto the session's clock (each engine times from
its own first sample) and the words already final are dropped, so the client sees one
continuous stream. Messages from a replaced engine are
ignored: the replay covers its words in flight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

import numpy as np

from app.protocol.messages import Results, ServerMessage
from app.protocol.pcm import FloatArray
from app.protocol.timeline import REPLAY_CONTEXT_S, shifted, without_settled_words
from app.server.engines.base import Emit, EngineSession

REPLAY_LIMIT_S = 120.0

SessionT = TypeVar("SessionT", bound=EngineSession)


class Handover:
    """The audio kept for replays and the relay between the live engine and the client."""

    def __init__(
        self,
        rate: int,
        emit: Emit,
        on_utterance_end: Callable[[], None] | None = None,
        *,
        channels: int = 1,
        on_final: Callable[[Results], None] | None = None,
    ) -> None:
        self.rate = rate
        self._emit = emit
        # Called after an utterance's final went out: the one moment to switch engines
        # without splitting an utterance between two of them.
        self._on_utterance_end = on_utterance_end
        # Called with each final (on the session's clock) while its audio is still kept:
        # `audio` reads it there, until the final lets it go.
        self._on_final = on_final
        self._kept: list[list[FloatArray]] = []  # audio since `_kept_from`, per fed block
        self._kept_from = 0  # stream sample where `_kept` starts
        self._received = 0  # stream samples fed
        # Stream seconds covered by finals, per channel: in Both mode one channel settles
        # later than the other, and its words in flight must be replayed too.
        self.settled_s = [0.0] * channels
        self.generation = 0  # which engine session is live; older ones are muted

    def take_over(self, open_session: Callable[[Emit], SessionT]) -> SessionT:
        """A new live engine session: `open_session(relay)` opens it, then it is fed the audio
        from a little before the last final. The previous session is muted; abort it."""
        self.generation += 1
        session = open_session(self._relay_for(self.generation, self.replay_start() / self.rate))
        self._replay_into(session)
        return session

    def keep(self, channels: list[FloatArray]) -> list[FloatArray]:
        """Remember a fed block (for a later replay); returns it as float32 arrays."""
        block = [np.asarray(c, dtype=np.float32) for c in channels]
        self._kept.append(block)
        self._received += len(block[0])
        self._trim()
        return block

    def audio(self, channel: int, start_s: float, end_s: float) -> FloatArray | None:
        """One channel's audio from `start_s` to `end_s` on the session's clock (a copy), or
        None if part of it is no longer kept (or not yet received)."""
        start, end = round(start_s * self.rate), round(end_s * self.rate)
        if start < self._kept_from or end > self._received or end <= start:
            return None
        parts, at = [], self._kept_from
        for block in self._kept:
            samples = block[channel]
            if at + len(samples) > start and at < end:
                parts.append(samples[max(0, start - at) : end - at])
            at += len(samples)
        return np.concatenate(parts)

    @property
    def received_s(self) -> float:
        """Seconds of audio fed to the session so far."""
        return self._received / self.rate

    def replay_start(self) -> int:
        """Stream sample where a new engine starts: a little before the last final's end."""
        return max(self._kept_from, round((self._settled - REPLAY_CONTEXT_S) * self.rate), 0)

    @property
    def _settled(self) -> float:
        """Where every channel is settled: the lagging channel's last final."""
        return min(self.settled_s)

    def _relay_for(self, generation: int, offset_s: float) -> Emit:
        settled_at_take_over = list(self.settled_s)

        def relay(message: ServerMessage) -> None:
            if generation != self.generation:
                return  # a replaced engine's late words: the replay covers them
            message = shifted(message, offset_s)
            if isinstance(message, Results):
                channel = min(message.channel, len(settled_at_take_over) - 1)
                settled_before = settled_at_take_over[channel]
                message = without_settled_words(message, settled_before)
                if message.start < settled_before:  # the part before was final already
                    end = message.start + message.duration
                    message = replace(
                        message, start=settled_before, duration=max(0.0, end - settled_before)
                    )
            utterance_end = False
            if isinstance(message, Results) and message.is_final:
                channel = min(message.channel, len(self.settled_s) - 1)
                end = message.start + message.duration
                self.settled_s[channel] = max(self.settled_s[channel], end)
                if self._on_final is not None:
                    self._on_final(message)
                self._trim()
                utterance_end = message.speech_final
            self._emit(message)
            if utterance_end and self._on_utterance_end is not None:
                self._on_utterance_end()

        return relay

    def _replay_into(self, session: EngineSession) -> None:
        skip = self.replay_start() - self._kept_from
        # A copy: an engine that answers at once settles words, and that trims `_kept`.
        for block in list(self._kept):
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
