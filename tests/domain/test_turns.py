"""Turns: consecutive finals of one label read as one paragraph (app/domain/turns.py): pure."""

from __future__ import annotations

import itertools

from app.domain.transcript import Segment, gap_segment
from app.domain.turns import MAX_PAUSE_S, MAX_TURN_S, as_turn, turn_starts


def final(text: str, start: float, source: str = "Others", *, end: float | None = None) -> Segment:
    return Segment(text, start, start + 1.0 if end is None else end, source, True, True)


def spans(finals: list[Segment]) -> list[tuple[int, int]]:
    """Each turn as (first, past its last) indices into `finals`."""
    return list(itertools.pairwise([*turn_starts(finals), len(finals)]))


def grouped(finals: list[Segment]) -> list[list[str]]:
    return [[s.text for s in finals[a:b]] for a, b in spans(finals)]


def test_consecutive_finals_of_one_label_are_one_turn_until_the_label_changes() -> None:
    finals = [
        final("Hello.", 0, "Speaker 1"),
        final("How are you?", 1.5, "Speaker 1"),
        final("Fine.", 3, "Speaker 2"),
        final("Thanks.", 4, "Speaker 2"),
        final("Good.", 5, "Speaker 1"),
    ]
    assert grouped(finals) == [["Hello.", "How are you?"], ["Fine.", "Thanks."], ["Good."]]


def test_a_long_pause_starts_a_new_turn_a_short_one_does_not() -> None:
    finals = [
        final("before", 0),
        final("after a thought", 1.0 + MAX_PAUSE_S),  # exactly the limit: still the same turn
        final("after a break", 2.0 + 2 * MAX_PAUSE_S + 0.1),
    ]
    assert grouped(finals) == [["before", "after a thought"], ["after a break"]]


def test_a_gap_marker_is_a_turn_of_its_own() -> None:
    finals = [final("one", 0), gap_segment(1.0, 2.0), final("two", 3.5)]
    assert grouped(finals) == [["one"], [finals[1].text], ["two"]]


def test_a_long_monologue_is_cut_at_an_utterance_end_once_the_turn_is_long() -> None:
    finals = [
        Segment(f"w{i}", i * 10.0, i * 10.0 + 9.0, "You", True, speech_final=i % 3 == 2)
        for i in range(40)
    ]
    assert len(spans(finals)) > 2
    for a, b in spans(finals):
        span = finals[b - 1].end - finals[a].start
        assert span <= MAX_TURN_S + 30, span  # cut at the first utterance end past the limit
        assert b == len(finals) or finals[b - 1].speech_final


def test_a_monologue_without_utterance_ends_is_still_cut() -> None:
    finals = [Segment(f"w{i}", i * 10.0, i * 10.0 + 9.0, "You") for i in range(100)]
    lengths = [finals[b - 1].end - finals[a].start for a, b in spans(finals)]
    assert len(lengths) > 1 and max(lengths) <= 2 * MAX_TURN_S + 10


def test_nothing_has_no_turns() -> None:
    assert turn_starts([]) == []


def test_a_turn_reads_as_one_segment_from_its_first_start_to_its_last_end() -> None:
    turn = as_turn([final(" And so", 0, "You"), final("my fellow Americans. ", 1.5, "You")])
    assert turn == Segment("And so my fellow Americans.", 0.0, 2.5, "You", True, True)
