"""The session journal's line format (app/domain/journal.py, docs/user-guide.md): pure."""

from __future__ import annotations

import json

import pytest

from app.domain.journal import (
    MAX_TITLE_CHARS,
    clean_title,
    decode_journal,
    decode_lines,
    decode_session,
    encode_line,
    encode_rename,
    encode_title,
)
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


# -- the library's records: a session's title -------------------------------------------------


def test_a_title_is_a_line_of_its_own_and_the_latest_wins() -> None:
    lines = [
        encode_line(Segment("Hello.", 0, 1, "Speaker 1", True, True)),
        encode_title("Budget meeting"),
        encode_rename("Speaker 1", "Alice"),
        encode_title("Budget  meeting\n(final)"),  # one line, single spaces
        encode_line(Segment("Bye.", 1, 2, "Speaker 1", True, True)),
    ]
    records = decode_journal(lines)
    assert records.title == "Budget meeting (final)"
    assert [s.text for s in records.segments] == ["Hello.", "Bye."]
    assert records.names == {"Speaker 1": "Alice"}
    assert json.loads(lines[1]) == {"title": "Budget meeting"}
    # Every older reader keeps working: segments only, and segments with names.
    assert decode_lines(lines) == records.segments
    assert decode_session(lines) == (records.segments, records.names)


def test_an_empty_title_gives_the_default_back_and_no_title_is_none() -> None:
    assert decode_journal([encode_title("Mine"), encode_title("  ")]).title is None
    assert decode_journal([encode_line(Segment("x", 0, 1))]).title is None


@pytest.mark.parametrize(
    "bad",
    [
        '{"title": "torn',  # killed mid-write
        '{"title": 42}',  # not text
        '{"title": null}',
    ],
)
def test_a_torn_or_odd_title_line_is_skipped_and_the_title_before_it_kept(bad: str) -> None:
    lines = [encode_title("Kept"), bad, encode_line(Segment("x", 0, 1))]
    records = decode_journal(lines)
    assert records.title == "Kept" and [s.text for s in records.segments] == ["x"]


def test_a_title_too_long_for_a_list_is_refused_when_set_and_cut_when_read() -> None:
    with pytest.raises(ValueError, match="at most"):
        clean_title("x" * (MAX_TITLE_CHARS + 1))
    hand_written = json.dumps({"title": "y" * 1000}) + "\n"
    assert decode_journal([hand_written]).title == "y" * MAX_TITLE_CHARS


def test_a_journal_continued_after_a_crash_mid_line_keeps_its_next_record(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.domain.transcript import Segment
    from app.services.journal import Journal, read_journal

    path = tmp_path / "2024-01-01T10-00-00.jsonl"
    kept = '{"text": "kept", "start": 0, "end": 1, "source": "You", "is_final": true}\n'
    path.write_text(kept + '{"text": "cut by the cr')
    journal = Journal(path)  # continued
    journal.append(Segment("after", 5.0, 6.0, "You", True, True))
    journal.close()
    assert [s.text for s in read_journal(path)] == ["kept", "after"]


def test_a_second_writer_is_refused_and_leaves_the_first_ones_marker(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.errors import SessionBusy
    from app.services.journal import OPEN_SUFFIX, Journal

    path = tmp_path / "2024-01-01T10-00-00.jsonl"
    first = Journal(path)
    with pytest.raises(SessionBusy):
        Journal(path)  # e.g. "Continue this session" while it records elsewhere
    assert path.with_name(path.name + OPEN_SUFFIX).exists()  # still marked as running
    first.close()
    assert not path.with_name(path.name + OPEN_SUFFIX).exists()
