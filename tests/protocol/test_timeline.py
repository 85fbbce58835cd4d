"""Stream time across connections (app/protocol/timeline.py): pure, no I/O."""

from __future__ import annotations

import pytest

from app.protocol.messages import (
    Metadata,
    Results,
    ServerMessage,
    SpeechStarted,
    UtteranceEnd,
    Warning,
    Word,
)
from app.protocol.timeline import SAME_WORD_SLACK_S, shifted, without_settled_words


def results(*words: tuple[str, float, float], is_final: bool = True) -> Results:
    built = tuple(Word(w, s, e) for w, s, e in words)
    start = built[0].start if built else 0.0
    end = built[-1].end if built else 0.0
    text = " ".join(w.word for w in built)
    return Results(text, is_final, is_final, start, end - start, words=built)


def test_shifted_moves_every_time_in_a_result_and_nothing_else() -> None:
    original = results(("ask", 0.5, 0.9), ("not", 1.0, 1.2))
    moved = shifted(original, 10.0)
    assert isinstance(moved, Results)
    assert moved.start == pytest.approx(10.5) and moved.duration == pytest.approx(0.7)
    assert [(w.word, w.start, w.end) for w in moved.words] == [
        ("ask", pytest.approx(10.5), pytest.approx(10.9)),
        ("not", pytest.approx(11.0), pytest.approx(11.2)),
    ]
    assert (moved.transcript, moved.is_final, moved.speech_final) == ("ask not", True, True)


@pytest.mark.parametrize(
    ("message", "field", "expected"),
    [
        (UtteranceEnd(last_word_end=2.5), "last_word_end", 9.5),
        (SpeechStarted(timestamp=0.25), "timestamp", 7.25),
    ],
)
def test_shifted_moves_utterance_end_and_speech_started(
    message: ServerMessage, field: str, expected: float
) -> None:
    assert getattr(shifted(message, 7.0), field) == pytest.approx(expected)


def test_shifted_leaves_timeless_messages_and_a_zero_offset_alone() -> None:
    warning = Warning("PROVIDER_FAILOVER", "switched")
    metadata = Metadata("id", "now", 3.0, 1, "tiny.en", "whisper")
    assert shifted(warning, 5.0) is warning
    assert shifted(metadata, 5.0) is metadata  # duration is audio received, not a time
    final = results(("hello", 1.0, 1.5))
    assert shifted(final, 0.0) is final


def test_words_ending_at_or_before_the_settled_time_are_dropped() -> None:
    replayed = results(("country", 3.0, 3.6), ("can", 3.7, 4.0), ("do", 4.1, 4.3))
    kept = without_settled_words(replayed, settled_until_s=4.0)
    assert [w.word for w in kept.words] == ["do"] and kept.transcript == "do"
    assert kept.is_final and kept.speech_final


def test_a_word_seen_again_a_little_later_is_still_the_same_word() -> None:
    # The second connection times "can" 40 ms later than the first did: still one word.
    replayed = results(("can", 3.7, 4.0 + SAME_WORD_SLACK_S - 0.01), ("do", 4.1, 4.3))
    assert [w.word for w in without_settled_words(replayed, 4.0).words] == ["do"]
    # A word that ends clearly after the settled time is new.
    later = results(("can", 3.9, 4.0 + SAME_WORD_SLACK_S + 0.01))
    assert [w.word for w in without_settled_words(later, 4.0).words] == ["can"]


def test_results_after_the_settled_time_pass_unchanged() -> None:
    fresh = results(("you", 5.0, 5.2), ("ask", 5.3, 5.6), is_final=False)
    assert without_settled_words(fresh, 4.0) is fresh
    empty = Results("", True, True, 4.0, 1.0)
    assert without_settled_words(empty, 4.5) is empty


def test_a_result_made_only_of_settled_words_becomes_empty() -> None:
    again = results(("ask", 1.0, 1.3), ("not", 1.4, 1.7))
    emptied = without_settled_words(again, 2.0)
    assert emptied.words == () and emptied.transcript == ""


def test_a_word_ending_right_at_the_slack_is_the_same_word_and_the_rest_keep_their_spaces() -> None:
    replayed = results(("can", 3.7, 4.0 + SAME_WORD_SLACK_S), ("do", 4.1, 4.3), ("for", 4.4, 4.6))
    kept = without_settled_words(replayed, 4.0)
    assert kept.transcript == "do for" and [w.word for w in kept.words] == ["do", "for"]
