"""The session journal's line format (app/domain/journal.py, architecture.md §4): pure."""

from __future__ import annotations

import json

import pytest

from app.domain.journal import decode_lines, encode_line
from app.domain.transcript import Segment, gap_segment


def test_a_line_is_one_json_object_with_the_contract_fields_and_a_newline() -> None:
    line = encode_line(Segment("naïve café", 1.23456, 2.5, "Others", True, False))
    assert line.endswith("\n") and line.count("\n") == 1
    assert "naïve café" in line  # UTF-8 text, not \\u escapes: the journal stays greppable
    assert json.loads(line) == {
        "text": "naïve café",
        "start": 1.235,
        "end": 2.5,
        "source": "Others",
        "is_final": True,
        "speech_final": False,
    }


@pytest.mark.parametrize(
    "segment",
    [
        Segment("ask not", 0.5, 1.25, "You", True, False),
        Segment("what your country", 1.5, 2.75, "Others", True, True),
        gap_segment(3.0, 1.5),
    ],
)
def test_a_final_segment_reads_back_as_written(segment: Segment) -> None:
    assert decode_lines([encode_line(segment)]) == [segment]


def test_an_interim_is_journaled_as_final_because_only_finals_are_journaled() -> None:
    line = encode_line(Segment("ask", 0.0, 1.0, "You", is_final=False))
    assert json.loads(line)["is_final"] is True
    assert decode_lines([line])[0].is_final


def test_an_older_line_without_the_optional_fields_is_one_whole_utterance() -> None:
    (segment,) = decode_lines(['{"text": "hello", "start": 1, "end": 2}'])
    assert segment == Segment("hello", 1.0, 2.0, "", True, True, 0.0)


@pytest.mark.parametrize(
    "bad",
    [
        '{"text": "torn", "start": 1.0, "en',  # the app was killed mid-write
        '{"start": 1.0, "end": 2.0}',  # no text
        '{"text": "x", "end": 2.0}',  # no start
        '{"text": "x", "start": 1.0}',  # no end
        '{"text": "x", "start": "soon", "end": 2.0}',
        '{"text": "x", "start": null, "end": 2.0}',
        '{"text": "x", "start": 1.0, "end": 2.0, "gap_s": "some"}',
        '["text", 1.0, 2.0]',  # valid JSON, not a record
        "",
    ],
)
def test_a_torn_or_foreign_line_is_skipped_and_the_rest_still_read(bad: str) -> None:
    good = [Segment("before", 0.0, 1.0, "You", True, True), Segment("after", 2.0, 3.0)]
    lines = [encode_line(good[0]), bad, encode_line(good[1])]
    assert decode_lines(lines) == [good[0], Segment("after", 2.0, 3.0, "", True, False)]
