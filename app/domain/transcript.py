"""Transcript: finals append, interims replace (per source), nothing final is ever revised."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.protocol.messages import Results


@dataclass(frozen=True)
class Segment:
    text: str
    start: float
    end: float
    source: str = ""
    is_final: bool = True
    speech_final: bool = False
    gap_s: float = 0.0  # > 0: a marker for audio that was lost, not speech
    original: str = ""  # the words heard, when the user corrected `text` (app/domain/edits.py)

    def to_dict(self) -> dict[str, object]:
        record: dict[str, object] = {
            "text": self.text,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "source": self.source,
            "is_final": self.is_final,
        }
        if self.gap_s:
            record["gap_s"] = round(self.gap_s, 3)
        return record


def gap_segment(start: float, length: float) -> Segment:
    """The transcript's marker for audio no server captioned: captured while offline beyond
    the reconnect ring, dropped by a full capture queue, or sent but lost with a connection
    before the server settled it."""
    return Segment(
        f"[gap: {length:.1f} s of audio not captioned]",
        start,
        start + length,
        "",
        True,
        True,
        gap_s=length,
    )


def segment_from_results(results: Results, source: str = "") -> Segment:
    if results.words:
        start, end = results.words[0].start, results.words[-1].end
    else:
        start, end = results.start, results.start + results.duration
    return Segment(results.transcript, start, end, source, results.is_final, results.speech_final)


@dataclass
class Transcript:
    finals: list[Segment] = field(default_factory=list)
    interims: dict[str, Segment] = field(default_factory=dict)

    def apply(self, results: Results, source: str = "") -> Segment | None:
        """Take one Results message; return the final segment it added, if any."""
        segment = self.settle(results, source)
        if segment is not None:
            self.finals.append(segment)
        return segment

    def settle(self, results: Results, source: str = "") -> Segment | None:
        """As `apply`, but the final segment is returned and not added (the caller decides)."""
        segment = segment_from_results(results, source)
        if not results.is_final:
            self.interims[source] = segment
            return None
        self.interims.pop(source, None)
        return segment if segment.text.strip() else None

    def add_gap(self, start: float, length: float) -> Segment:
        segment = gap_segment(start, length)
        self.finals.append(segment)
        return segment

    @property
    def text(self) -> str:
        """The words heard (gap markers left out)."""
        return " ".join(s.text.strip() for s in self.finals if s.text.strip() and not s.gap_s)

    def utterances(self) -> list[Segment]:
        """Finals joined into utterances (up to each speech_final), for readable exports."""
        return join_utterances(self.finals)


def join_utterances(finals: Sequence[Segment]) -> list[Segment]:
    """Join the finals of each source up to its speech_final; in start order."""
    return [utterance for _first, utterance in numbered_utterances(finals)]


def numbered_utterances(finals: Sequence[Segment]) -> list[tuple[int, Segment]]:
    """`join_utterances(finals)`, each with the index in `finals` of its first final: where a
    search hit or an edit points, whatever way a view groups the lines."""
    merged: list[tuple[int, Segment]] = []
    open_parts: dict[str, tuple[int, Segment]] = {}
    for index, segment in enumerate(finals):
        if segment.gap_s:
            merged.append((index, segment))  # a marker is never joined to speech
            continue
        first, part = open_parts.get(segment.source, (index, segment))
        if first != index:
            part = Segment(
                " ".join(t for t in (part.text.strip(), segment.text.strip()) if t),
                part.start,
                segment.end,
                segment.source,
                True,
                segment.speech_final,
            )
        if segment.speech_final:
            merged.append((first, part))
            open_parts.pop(segment.source, None)
        else:
            open_parts[segment.source] = (first, part)
    merged.extend(open_parts.values())
    merged.sort(key=lambda numbered: numbered[1].start)  # stable: equal starts keep order
    # An utterance the user removed every word of (an edit) is no caption.
    return [(first, u) for first, u in merged if u.gap_s or u.text.strip()]


# A new run starts this long after the last segment of the ones before it.
RUN_SEPARATION_S = 1.0


def next_run_start(segments: Sequence[Segment]) -> float:
    """Where a new captioning run goes on the session's timeline: after what is already
    there (one timeline per journal, so exported cues never run backwards)."""
    last = max((segment.end for segment in segments), default=0.0)
    return last + RUN_SEPARATION_S if last > 0 else 0.0
