"""Turns: what one speaker said in a row, read as one paragraph. Pure.

A turn is a run of consecutive finals (in the order they arrived) with one label. A new turn
starts when the label changes, at a marker for lost audio, after a pause of more than
MAX_PAUSE_S, and once a turn is MAX_TURN_S long.

Why 30 s: within a turn people pause for breath or a thought for a few seconds, and an engine
cuts finals well under a second apart; a silence of more than half a minute is a break (a
screen share, a question to the room nobody captioned, a coffee) and the talk after it gets
a time of its own in the time column. With a single channel ("Others", no speaker labels)
pauses are the only cut there is, and a shorter limit would chop one person's answer.

Why 120 s: a turn's time is shown once, at its start, so a lecture as one turn would leave the
reader without a time for half an hour, and one paragraph that long is hard to copy or
correct. The cut waits for the end of an utterance, unless the engine never sends one.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.domain.transcript import Segment

MAX_PAUSE_S = 30.0
MAX_TURN_S = 120.0


def starts_turn(head: Segment, previous: Segment, segment: Segment) -> bool:
    """Whether `segment`, arriving after `previous` in the turn that began with `head`,
    begins a new turn."""
    if segment.gap_s or previous.gap_s or segment.source != previous.source:
        return True
    if segment.start - previous.end > MAX_PAUSE_S:
        return True
    length = previous.end - head.start
    return length >= MAX_TURN_S and (previous.speech_final or length >= 2 * MAX_TURN_S)


def turn_starts(finals: Sequence[Segment]) -> list[int]:
    """The index of the first final of each turn in `finals` (in arrival order)."""
    starts: list[int] = []
    for index, segment in enumerate(finals):
        if not starts or starts_turn(finals[starts[-1]], finals[index - 1], segment):
            starts.append(index)
    return starts


def turn_text(parts: Sequence[Segment]) -> str:
    return " ".join(text for text in (part.text.strip() for part in parts) if text)


def as_turn(parts: Sequence[Segment]) -> Segment:
    """A turn as one segment: its words, from its first start to its last end."""
    head, last = parts[0], parts[-1]
    # A marker for lost audio is a turn of its own: its length comes along.
    return Segment(
        turn_text(parts), head.start, last.end, head.source, True, last.speech_final, head.gap_s
    )
