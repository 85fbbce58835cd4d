"""Speaker labels and names (app/domain/speakers.py): numbering across runs, names kept in
the journal as lines of their own, and used by every export format."""

from __future__ import annotations

import json

import pytest

from app.domain.export import ExportOptions, export
from app.domain.journal import decode_lines, decode_session, encode_line, encode_rename
from app.domain.speakers import (
    MAX_NAME_CHARS,
    SpeakerNames,
    clean_name,
    numbers_used,
    renumbered,
    voice_label,
    with_offset,
)
from app.domain.transcript import Segment
from app.protocol.messages import Results, Word
from tests.formats import assert_export_format


def results(speaker: int | None) -> Results:
    return Results("hi", True, True, 0.0, 1.0, words=(Word("hi", 0.0, 0.5, speaker=speaker),))


def test_a_run_numbers_its_voices_after_the_earlier_runs_ones() -> None:
    assert voice_label("Others", results(0), own_voice=False) == "Speaker 1"
    assert voice_label("Others", results(1), own_voice=False, numbers_before=3) == "Speaker 5"
    assert voice_label("Others", results(None), own_voice=False, numbers_before=3) == "Others"
    assert voice_label("You", results(1), own_voice=True, numbers_before=3) == "You"
    earlier = [Segment("a", 0, 1, "Speaker 2"), Segment("b", 1, 2, "You"), Segment("c", 2, 3)]
    assert numbers_used(earlier) == 2
    assert numbers_used([Segment("a", 0, 1, "Speaker 2x"), Segment("b", 1, 2, "Others")]) == 0


def test_a_restored_sessions_voices_are_moved_past_the_current_ones() -> None:
    assert renumbered("Speaker 2", 3) == "Speaker 5"
    assert renumbered("Others", 3) == "Others"
    segments, names = with_offset(
        [Segment("a", 0, 1, "Speaker 1"), Segment("b", 1, 2, "You")],
        {"Speaker 1": "Alice", "You": "Me"},
        2,
    )
    assert [s.source for s in segments] == ["Speaker 3", "You"]
    assert names == {"Speaker 3": "Alice", "You": "Me"}


def test_names_are_cleaned_and_an_empty_name_or_the_label_takes_the_name_away() -> None:
    names = SpeakerNames()
    assert names.rename("Speaker 2", "  Alice \n Smith\t") == "Alice Smith"
    assert dict(names) == {"Speaker 2": "Alice Smith"}
    assert names.shown("Speaker 1") == "Speaker 1"
    assert names.rename("Speaker 2", "Speaker 2") == "Speaker 2"
    assert dict(names) == {}
    names.rename("Others", "Bob")
    assert names.rename("Others", "   ") == "Others" and len(names) == 0


@pytest.mark.parametrize(
    ("name", "why"),
    [("x" * (MAX_NAME_CHARS + 1), "at most"), ("Alice:", "end with ':'")],
)
def test_a_name_no_format_can_carry_is_refused_saying_why(name: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        clean_name(name)
    with pytest.raises(ValueError, match="labelled"):
        SpeakerNames().rename("", "Alice")


def test_names_are_journal_lines_of_their_own_and_the_latest_wins() -> None:
    lines = [
        encode_line(Segment("Hello.", 0, 1, "Speaker 1")),
        encode_rename("Speaker 1", "Alice"),
        encode_rename("Speaker 2", "Bob"),
        encode_line(Segment("Hi.", 1, 2, "Speaker 2")),
        encode_rename("Speaker 1", "Alicia"),
        encode_rename("Speaker 2", ""),  # the name taken away
        '{"rename": "Speaker 3", "na',  # torn by a crash
    ]
    segments, names = decode_session(lines)
    assert [s.text for s in segments] == ["Hello.", "Hi."]
    assert names == {"Speaker 1": "Alicia"}
    assert decode_lines(lines) == segments  # a reader of segments only skips the names
    assert json.loads(lines[1]) == {"rename": "Speaker 1", "name": "Alice"}


SEGMENTS = [
    Segment("Hello there.", 0.0, 1.5, "Speaker 1"),
    Segment("Hi.", 2.0, 2.5, "Speaker 2"),
    Segment("Me again.", 3.0, 4.0, "You"),
]
NAMES = {"Speaker 1": "Alice & <Bo*b>", "You": "Me"}


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("txt", ["Alice & <Bo*b>: Hello there.", "Speaker 2: Hi.", "Me: Me again."]),
        ("srt", ["Alice & <Bo*b>: Hello there.", "Speaker 2: Hi.", "Me: Me again."]),
        (
            "vtt",
            ["<v Alice &amp; &lt;Bo*b&gt;>Hello there.", "<v Speaker 2>Hi.", "<v Me>Me again."],
        ),
        ("md", ["*Alice & <Bo\\*b>:* Hello there.", "*Speaker 2:* Hi.", "*Me:* Me again."]),
    ],
)
def test_every_text_format_shows_the_names_given(fmt: str, expected: list[str]) -> None:
    text = export(SEGMENTS, fmt, ExportOptions(title="T", names=NAMES))
    assert assert_export_format(text, fmt, title="T") == expected


def test_json_gives_the_name_as_source_and_keeps_the_label_it_names() -> None:
    text = export(SEGMENTS, "json", ExportOptions(names=NAMES))
    assert_export_format(text, "json")
    records = json.loads(text)["segments"]
    assert [(r["source"], r.get("label")) for r in records] == [
        ("Alice & <Bo*b>", "Speaker 1"),
        ("Speaker 2", None),
        ("Me", "You"),
    ]
