"""Corrections of misheard words (app/domain/edits.py) and their journal lines: pure."""

from __future__ import annotations

import json

import pytest

from app.domain.edits import apply_edits, edit_key, split_edit, with_edit
from app.domain.journal import decode_lines, decode_session, encode_edit, encode_line
from app.domain.transcript import Segment, gap_segment, join_utterances


def final(text: str, start: float, source: str = "Speaker 1", speech_final: bool = True) -> Segment:
    return Segment(text, start, start + 1.0, source, True, speech_final)


# -- spreading a corrected turn over its finals ------------------------------------------------


def test_a_corrected_word_changes_only_the_final_it_was_in() -> None:
    parts = [" Hello there.", "We meet at noon", "in the bored room."]
    assert split_edit(parts, "Hello there. We meet at noon in the board room.") == [
        " Hello there.",  # untouched: kept exactly, leading space and all
        "We meet at noon",
        "in the board room.",
    ]


def test_added_words_go_with_the_word_before_them() -> None:
    parts = ["one two", "three four"]
    assert split_edit(parts, "zero one two and a half three four five") == [
        "zero one two and a half",
        "three four five",
    ]


def test_a_phrase_replaced_across_two_finals_is_spread_over_both() -> None:
    assert split_edit(["a b c", "d e f"], "a X Y Z W f") == ["a X Y", "Z W f"]


def test_removing_every_word_of_a_final_leaves_it_empty() -> None:
    assert split_edit(["keep this", "thank you"], "keep this") == ["keep this", ""]


def test_whitespace_and_control_characters_are_not_words() -> None:
    assert split_edit(["a b"], "  a\n\tb\x00c ") == ["a b c"]


def test_an_empty_turn_takes_the_new_words_in_its_first_final() -> None:
    assert split_edit(["", " "], "now words") == ["now words", " "]


# -- a final and its edit -------------------------------------------------------------------


def test_an_edited_final_keeps_the_words_heard_and_an_edit_back_removes_the_edit() -> None:
    heard = final("the bored room", 4.0)
    once = with_edit(heard, "the board room")
    assert (once.text, once.original) == ("the board room", "the bored room")
    twice = with_edit(once, "the boardroom")
    assert (twice.text, twice.original) == ("the boardroom", "the bored room")
    assert with_edit(twice, "the bored room") == heard


def test_a_final_is_known_by_its_label_and_its_start_to_the_millisecond() -> None:
    live = Segment("x", 1.23456, 2.0, "You")
    (journaled,) = decode_lines([encode_line(live)])  # the journal keeps 1.235
    assert edit_key(live) == edit_key(journaled) == ("You", 1235)
    assert edit_key(live) != edit_key(Segment("x", 1.23456, 2.0, "Others"))


def test_edits_apply_to_their_finals_only_and_never_to_a_gap_marker() -> None:
    finals = [final("one", 0.0), final("two", 1.0), gap_segment(2.0, 1.0)]
    edits = {edit_key(finals[1]): "2", edit_key(finals[2]): "words", ("Nobody", 0): "x"}
    edited = apply_edits(finals, edits)
    assert [s.text for s in edited] == ["one", "2", finals[2].text]
    assert edited[1].original == "two" and not edited[0].original


def test_an_utterance_whose_words_were_all_removed_is_left_out_of_the_utterances() -> None:
    finals = [final("Thank you.", 0.0), final("Real words.", 2.0)]
    edited = apply_edits(finals, {edit_key(finals[0]): ""})
    assert [u.text for u in join_utterances(edited)] == ["Real words."]


# -- the journal line -----------------------------------------------------------------------


def test_an_edit_is_a_line_of_its_own_naming_the_final_by_label_and_start() -> None:
    line = encode_edit(Segment("bored", 12.34567, 13.0, "Speaker 2"), "board ✓")
    assert line.endswith("\n") and line.count("\n") == 1 and "✓" in line
    assert json.loads(line) == {"edit": {"start": 12.346, "source": "Speaker 2", "text": "board ✓"}}


def test_a_journal_reads_back_with_its_latest_edits_applied_and_the_words_heard_kept() -> None:
    one, two = final("in the bored room", 1.0), final("at noon", 2.5, "You")
    lines = [
        encode_line(one),
        encode_line(two),
        encode_edit(one, "in the board room"),
        encode_edit(one, "in the boardroom"),  # the latest wins
        encode_edit(final("?", 99.0), "no such final"),  # skipped
    ]
    segments, _names = decode_session(lines)
    assert [(s.text, s.original) for s in segments] == [
        ("in the boardroom", "in the bored room"),
        ("at noon", ""),
    ]


def test_a_reader_of_segment_lines_only_skips_an_edit_line() -> None:
    record = json.loads(encode_edit(final("x", 0.0), "y"))
    assert not {"text", "start", "end", "source", "is_final"} & set(record)


def test_an_edited_final_is_journaled_as_heard_followed_by_its_edit() -> None:
    """What a restore writes into the new session's journal: the original stays there too."""
    edited = with_edit(final("the bored room", 7.25, "Speaker 3"), "the board room")
    lines = encode_line(edited).splitlines(keepends=True)
    assert len(lines) == 2
    assert json.loads(lines[0])["text"] == "the bored room"
    assert json.loads(lines[1]) == {
        "edit": {"start": 7.25, "source": "Speaker 3", "text": "the board room"}
    }
    assert decode_lines(lines) == [edited]


@pytest.mark.parametrize(
    "line",
    [
        '{"edit": {"start": 1.0, "source": "You"}}\n',  # no text
        '{"edit": {"start": "soon", "source": "You", "text": "x"}}\n',
        '{"edit": "x"}\n',
        '{"edit": {"start": 1.0, "source": "You", "te',  # torn
    ],
)
def test_a_broken_edit_line_is_skipped_like_any_foreign_line(line: str) -> None:
    segment = final("kept as heard", 1.0, "You")
    assert decode_lines([encode_line(segment), line]) == [segment]
