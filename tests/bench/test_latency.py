"""bench/streaming.py's word latency: each word is credited with when it showed at its place."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from evalset import EvalItem
from streaming import align, analyse, first_sightings

# "the cat the": the words' (text, audio start, audio end) in the finals.
THE_CAT_THE = [("the", 0.0, 0.3), ("cat", 0.4, 0.7), ("the", 0.8, 1.1)]


def test_a_repeated_word_is_not_credited_with_the_earlier_occurrences_sighting() -> None:
    hypotheses = [
        (0.5, THE_CAT_THE[:1]),  # interim "the"
        (0.9, THE_CAT_THE[:2]),  # interim "the cat"
        (1.3, THE_CAT_THE),  # interim "the cat the"
        (1.6, THE_CAT_THE),  # the final
    ]
    first = first_sightings(THE_CAT_THE, [1.6] * 3, hypotheses)
    assert first == [0.5, 0.9, 1.3]


def test_a_lone_word_aligns_to_the_occurrence_nearest_in_time() -> None:
    assert align(THE_CAT_THE, [("the", 0.85, 1.1)]) == [(2, 0)]
    assert align(THE_CAT_THE, [("the", 0.05, 0.3)]) == [(0, 0)]


def test_alignment_keeps_order_and_skips_words_that_differ() -> None:
    hypothesis = [("the", 0.1, 0.3), ("cap", 0.4, 0.7), ("the", 0.9, 1.1)]
    assert align(THE_CAT_THE, hypothesis) == [(0, 0), (2, 2)]


def test_a_word_seen_too_far_from_its_place_is_not_the_same_word() -> None:
    assert align(THE_CAT_THE, [("cat", 3.0, 3.2)]) == []


def test_a_word_revised_on_the_way_is_first_seen_in_its_final() -> None:
    hypotheses = [(0.6, [("the", 0.0, 0.3), ("cap", 0.4, 0.7)]), (1.0, THE_CAT_THE[:2])]
    assert first_sightings(THE_CAT_THE[:2], [1.0, 1.0], hypotheses) == [0.6, 1.0]


def results_event(t: float, words: list[tuple[str, float, float]], *, final: bool) -> str:
    msg = {
        "type": "Results",
        "is_final": final,
        "channel": {
            "alternatives": [{"words": [{"word": w, "start": s, "end": e} for w, s, e in words]}]
        },
    }
    return json.dumps({"t": t, "audio_s": t, "msg": msg})


def test_the_benchmark_times_each_word_of_a_stream_at_its_own_place(tmp_path: Path) -> None:
    events = tmp_path / "x.events.jsonl"
    spoken = [("The", 0.0, 0.3), ("cat", 0.4, 0.7), ("the.", 0.8, 1.1)]
    lines = [
        results_event(0.5, spoken[:1], final=False),
        results_event(0.9, spoken[:2], final=False),
        results_event(1.3, spoken, final=False),
        results_event(1.6, spoken, final=True),
    ]
    events.write_text("\n".join(lines) + "\n")
    item = EvalItem("x", tmp_path / "x.flac", "the cat the", 1.2, "read")
    run = analyse(item, events, [("the", 0.3), ("cat", 0.7), ("the", 1.1)])
    assert run.finals == "the cat the" and run.matched == 3
    assert run.latencies_first == pytest.approx([0.2, 0.2, 0.2])
    assert run.latencies_final == pytest.approx([1.3, 0.9, 0.5])
