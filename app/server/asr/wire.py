"""Decoded words as the wire's Results: the one place the transcriber's output takes its shape."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.protocol.messages import Results, Word
from app.server.asr.decoder import DecodedWord


def joined(words: Sequence[DecodedWord]) -> str:
    return "".join(w.text for w in words).strip()


@dataclass(frozen=True)
class Span:
    """Where a Results message sits: its channel's audio from `start` to `end`."""

    start: float
    end: float
    channel: int
    channels: int


def results(
    words: Sequence[DecodedWord],
    span: Span,
    *,
    is_final: bool,
    speech_final: bool = False,
    from_finalize: bool = False,
    speaker: int | None = None,
) -> Results:
    wire_words = tuple(Word(w.bare, w.start, w.end, w.probability, speaker) for w in words)
    confidence = float(np.mean([w.probability for w in words])) if words else 0.0
    return Results(
        transcript=joined(words),
        is_final=is_final,
        speech_final=speech_final,
        start=span.start,
        duration=max(0.0, span.end - span.start),
        channel=span.channel,
        channels=span.channels,
        words=wire_words,
        confidence=confidence,
        from_finalize=from_finalize,
    )
