"""The transcript model (app/domain/transcript.py): pure, no Qt, no I/O."""

from __future__ import annotations

import pytest

from app.domain.transcript import (
    Segment,
    Transcript,
    gap_segment,
    join_utterances,
    next_run_start,
    segment_from_results,
)
from app.protocol.messages import Results, Word


def result(
    text: str,
    *,
    final: bool = True,
    speech_final: bool = False,
    start: float = 0.0,
    duration: float = 1.0,
    words: tuple[Word, ...] = (),
) -> Results:
    return Results(text, final, speech_final and final, start, duration, words=words)


def test_a_segment_serialises_its_times_to_the_millisecond_and_a_gap_only_when_there_is_one() -> (
    None
):
    assert Segment("hi", 1.23456, 2.98765, "You", False).to_dict() == {
        "text": "hi",
        "start": 1.235,
        "end": 2.988,
        "source": "You",
        "is_final": False,
    }
    assert Segment("", 1.0, 2.5, gap_s=1.23456).to_dict()["gap_s"] == 1.235


def test_a_gap_marker_says_how_much_audio_was_lost_and_ends_an_utterance() -> None:
    marker = gap_segment(10.0, 2.5)
    assert marker == Segment("[gap: 2.5 s of audio not captioned]", 10.0, 12.5, "", True, True, 2.5)


def test_a_segment_spans_its_words_when_it_has_any_else_the_results_window() -> None:
    words = (Word("ask", 1.5, 1.8), Word("not", 1.9, 2.1))
    timed = result("ask not", start=1.0, duration=2.0, words=words, speech_final=True)
    assert segment_from_results(timed, "You") == Segment("ask not", 1.5, 2.1, "You", True, True)
    untimed = result("ask not", final=False, start=1.0, duration=2.0)
    assert segment_from_results(untimed) == Segment("ask not", 1.0, 3.0, "", False, False)


def test_an_interim_replaces_the_interim_of_its_own_source_only() -> None:
    transcript = Transcript()
    assert transcript.apply(result("ask", final=False), "You") is None
    assert transcript.apply(result("ask not", final=False), "You") is None
    assert transcript.apply(result("hello", final=False), "Others") is None
    assert {s: seg.text for s, seg in transcript.interims.items()} == {
        "You": "ask not",
        "Others": "hello",
    }
    assert transcript.finals == []


def test_a_final_is_appended_and_clears_only_its_sources_interim() -> None:
    transcript = Transcript()
    transcript.apply(result("ask", final=False), "You")
    transcript.apply(result("hello", final=False), "Others")
    added = transcript.apply(result("ask not", start=2.0), "You")
    assert added == Segment("ask not", 2.0, 3.0, "You", True, False)
    assert transcript.finals == [added]
    assert list(transcript.interims) == ["Others"]


def test_a_blank_final_clears_the_interim_but_adds_nothing() -> None:
    transcript = Transcript()
    transcript.apply(result("uh", final=False), "You")
    assert transcript.apply(result("  "), "You") is None
    assert transcript.finals == [] and transcript.interims == {}


def test_a_gap_is_kept_in_the_finals_but_left_out_of_the_words_heard() -> None:
    transcript = Transcript()
    transcript.apply(result(" ask not ", start=0.0))
    marker = transcript.add_gap(1.0, 3.0)
    transcript.apply(result("what your country", start=4.0))
    assert marker == gap_segment(1.0, 3.0)
    assert transcript.finals[1] is marker
    assert transcript.text == "ask not what your country"


def test_finals_join_per_source_up_to_each_speech_final_in_start_order() -> None:
    finals = [
        Segment("ask not ", 0.0, 1.0, "You"),
        Segment("hello", 0.5, 1.2, "Others", speech_final=True),
        Segment(" what your", 1.1, 2.0, "You"),
        Segment("country can", 2.1, 3.0, "You", speech_final=True),
        Segment("do for you", 3.5, 4.0, "You"),  # still open at the end
    ]
    assert join_utterances(finals) == [
        Segment("ask not what your country can", 0.0, 3.0, "You", True, True),
        Segment("hello", 0.5, 1.2, "Others", True, True),
        Segment("do for you", 3.5, 4.0, "You", True, False),
    ]


def test_a_gap_marker_is_never_joined_to_speech_and_keeps_its_place() -> None:
    marker = gap_segment(1.0, 0.5)
    finals = [Segment("ask not", 0.0, 1.0, "You"), marker, Segment("what", 1.5, 2.0, "You")]
    transcript = Transcript(finals=finals)
    assert transcript.utterances() == [Segment("ask not what", 0.0, 2.0, "You"), marker]


@pytest.mark.parametrize("source", ["", "You"])
def test_an_utterance_of_one_final_is_that_final(source: str) -> None:
    only = Segment("hi", 1.0, 2.0, source, True, True)
    assert join_utterances([only]) == [only]


def test_a_segment_of_many_words_ends_with_its_last_word() -> None:
    words = (Word("ask", 1.5, 1.8), Word("not", 1.9, 2.1), Word("what", 2.2, 2.6))
    assert segment_from_results(result("ask not what", words=words)).end == 2.6


def test_results_without_a_source_belong_to_the_unnamed_source() -> None:
    transcript = Transcript()
    transcript.apply(result("ask", final=False))
    assert list(transcript.interims) == [""]
    transcript.apply(result("ask not"))
    assert transcript.interims == {} and transcript.finals[0].source == ""


def test_a_new_run_starts_a_second_after_the_latest_end_or_at_zero() -> None:
    assert next_run_start([]) == 0.0
    segments = [Segment("b", 5.0, 9.5, "You"), Segment("a", 1.0, 2.0, "Others")]
    assert next_run_start(segments) == 10.5
