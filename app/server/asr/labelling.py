"""Speaker labels for finals, worked out beside the decode so they cost no caption latency.

A span's label is its speaker, or its speakers' turns when the voice changed inside it (see
app/server/asr/speaker_turns.py); the transcriber then settles one final per turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from app.protocol.pcm import FloatArray
from app.server.asr.decoder import DecodedWord


@dataclass(frozen=True)
class Turn:
    start_s: float  # channel time the speaker began (the span's start for the first turn)
    speaker: int


SpeakerTurns = tuple[Turn, ...]


class SpanVoices(Protocol):
    """A span's voices, worked out from its audio, labelled once its words are known: a turn
    that holds no word (laughter, a door) is no speaker, so it must not found a label."""

    def turns(self, word_middles: Sequence[float]) -> SpeakerTurns: ...


# Who speaks in this audio (a final's span, starting at the given channel time): one speaker,
# the turns of several in order, or their voices, to be labelled by the words.
Label = Callable[[FloatArray, float], Coroutine[Any, Any, int | SpeakerTurns | SpanVoices | None]]


@dataclass(frozen=True)
class Piece:
    """Part of a final spoken by one speaker: its words and the span they settle."""

    words: tuple[DecodedWord, ...]
    start: float
    end: float
    speaker: int | None


def pieces(
    words: Sequence[DecodedWord], start: float, end: float, turns: SpeakerTurns | None
) -> list[Piece]:
    """The final's words cut where the speaker changes (a word goes to the turn its middle
    falls in), each piece's span reaching halfway into the pause before the next; a turn that
    holds no word joins no piece. Without turns: one piece, unlabelled."""
    if not turns:
        return [Piece(tuple(words), start, end, None)]
    groups: list[tuple[int, list[DecodedWord]]] = []
    for word in words:
        middle = (word.start + word.end) / 2
        speaker = next(t.speaker for t in reversed(turns) if t.start_s <= middle or t is turns[0])
        if groups and groups[-1][0] == speaker:
            groups[-1][1].append(word)
        else:
            groups.append((speaker, [word]))
    if not groups:
        return [Piece((), start, end, turns[0].speaker)]
    result: list[Piece] = []
    for index, (speaker, group) in enumerate(groups):
        piece_start = start if index == 0 else result[-1].end
        if index == len(groups) - 1:
            piece_end = end
        else:
            piece_end = min(
                max((group[-1].end + groups[index + 1][1][0].start) / 2, piece_start), end
            )
        result.append(Piece(tuple(group), piece_start, piece_end, speaker))
    return result


class PendingLabel:
    """The label of a span, started before the decode of the same span, awaited after it."""

    def __init__(
        self,
        task: asyncio.Task[int | SpeakerTurns | SpanVoices | None] | None = None,
        start: float = 0.0,
    ) -> None:
        self._task = task
        self._start = start

    @classmethod
    def start(cls, label: Label | None, audio: FloatArray, start: float) -> PendingLabel:
        if label is None or len(audio) == 0:
            return cls()
        return cls(asyncio.get_running_loop().create_task(label(audio, start)), start)

    async def turns(self, words: Sequence[DecodedWord]) -> SpeakerTurns | None:
        """The speakers of the span's `words` in order (one turn when one voice spoke), None:
        unlabelled."""
        if self._task is None:
            return None
        found = await self._task
        if found is None or isinstance(found, tuple):
            return found
        if isinstance(found, int):
            return (Turn(self._start, found),)
        return found.turns([(w.start + w.end) / 2 for w in words])

    def cancel(self) -> None:
        """Nothing settled after all: the label is not needed."""
        if self._task is not None:
            self._task.cancel()  # a cancelled task is never reported, awaited or not
