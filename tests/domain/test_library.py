"""The library's pure parts (app/domain/library.py, app/domain/search_query.py)."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from app.domain.journal import JournalRecords
from app.domain.library import (
    default_title,
    format_duration,
    session_start,
    summarize,
)
from app.domain.search_query import fts_query
from app.domain.transcript import Segment, gap_segment, join_utterances, numbered_utterances


@pytest.mark.parametrize(
    ("session_id", "expected"),
    [
        ("2024-05-01T10-00-00", datetime(2024, 5, 1, 10, 0, 0)),
        ("2024-05-01T10-00-00-2", datetime(2024, 5, 1, 10, 0, 0)),
        ("2024-13-01T10-00-00", None),  # not a date
        ("notes", None),
        ("2024-05-01T10-00-00-x", None),
    ],
)
def test_a_session_starts_when_its_name_says(session_id: str, expected: datetime | None) -> None:
    assert session_start(session_id) == expected


def test_the_default_title_is_the_first_eight_words_of_what_was_said() -> None:
    utterances = [
        gap_segment(0.0, 2.0),  # a marker says nothing
        Segment("  Good morning everyone, ", 2.0, 3.0, "Others", True, True),
        Segment("let's look at the budget for next year.", 3.0, 5.0, "You", True, True),
    ]
    assert default_title(utterances) == "Good morning everyone, let's look at the budget…"
    assert default_title(utterances[:2]) == "Good morning everyone,"
    assert default_title([]) == "(nothing said)"
    cut_at_a_stop = [Segment("One two three four five six seven eight. Nine.", 0, 1, "You")]
    assert default_title(cut_at_a_stop) == "One two three four five six seven eight…"


def test_a_summary_has_the_duration_the_speakers_the_count_and_a_title() -> None:
    segments = [
        Segment("Hello", 5.0, 6.0, "Speaker 1", True, False),
        Segment("there.", 6.0, 7.0, "Speaker 1", True, True),
        Segment("Hi.", 7.5, 9.25, "You", True, True),
        Segment("Again.", 8.0, 8.5, "Speaker 1", True, True),
    ]
    summary = summarize(JournalRecords(segments, {"Speaker 1": "Alice"}, None))
    assert summary.duration_s == pytest.approx(4.25)  # first start to last end
    assert summary.sources == ("Speaker 1", "You")  # as they first spoke
    assert summary.segments == 4 and summary.utterances == 3
    assert summary.default_title == "Hello there. Hi. Again."
    assert summarize(JournalRecords()).duration_s == 0.0


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "0:00"), (59.6, "1:00"), (75, "1:15"), (3725, "1:02:05")]
)
def test_a_duration_reads_as_a_clock(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


def test_numbered_utterances_are_join_utterances_with_where_each_one_begins() -> None:
    rng = random.Random(14)
    for _ in range(200):
        finals = []
        t = 0.0
        for _ in range(rng.randint(0, 12)):
            if rng.random() < 0.1:
                finals.append(gap_segment(t, 1.0))
            else:
                source = rng.choice(["You", "Others", "Speaker 1"])
                finals.append(Segment(f"w{t:.0f}", t, t + 0.5, source, True, rng.random() < 0.5))
            t += rng.choice([0.0, 0.3, 1.0])
        numbered = numbered_utterances(finals)
        assert [u for _, u in numbered] == join_utterances(finals)
        for first, utterance in numbered:
            # The utterance begins with the final it points at.
            assert finals[first].start == utterance.start
            assert utterance.text.startswith(finals[first].text.strip())


@pytest.mark.parametrize(
    ("typed", "query"),
    [
        ("budget", '"budget"'),
        ("Budget  plan", '"Budget" "plan"'),
        ("budg*", '"budg"*'),
        ('say "next year" now', '"say" "next year" "now"'),
        ('he said "hi', '"he" "said" "hi"'),  # an unclosed quote: plain words
        ("AND OR NOT NEAR", '"AND" "OR" "NOT" "NEAR"'),  # operators are words here
        ("-budget +plan", '"-budget" "+plan"'),  # no exclusion, no column filter
        ("don't", '"don\'t"'),
        ('a"b', '"a" "b"'),
        ("café:x", '"café:x"'),
        ("(x) {y} ^z", '"(x)" "{y}" "^z"'),  # inside a string, nothing is syntax
        ('"next ye"*', '"next ye"*'),  # a phrase whose last word is a prefix
        ("*", None),
        ('- * \' ""', None),
        ("", None),
    ],
)
def test_what_a_user_types_becomes_a_safe_fts_query(typed: str, query: str | None) -> None:
    assert fts_query(typed) == query
