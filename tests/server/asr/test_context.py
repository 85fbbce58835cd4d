"""The long-context window planner and the repetition guard (pure parts of the engine)."""

from __future__ import annotations

import pytest

from app.server.asr.context import Piece, SpeechHistory, Window
from app.server.asr.decoder import DecodedWord
from app.server.asr.repetition import repeated_ngram, repeated_run_at, without_repetition


def words(text: str, start: float = 0.0, step: float = 0.5) -> list[DecodedWord]:
    return [
        DecodedWord(" " + word, start + i * step, start + i * step + 0.4, 0.9)
        for i, word in enumerate(text.split())
    ]


def history_of_three_utterances() -> SpeechHistory:
    """Utterances at 0-4 s, 5-9 s and 20-24 s (a long pause before the third)."""
    history = SpeechHistory(gap_keep_s=1.0)
    for start, end, text in ((0.0, 4.0, "one two three"), (5.0, 9.0, "four five six")):
        history.begin(start)
        history.close(end)
        history.settle(words(text, start + 0.5), end)
    history.begin(20.0)
    history.extend(24.0)
    return history


def test_a_final_hears_the_earlier_utterances_with_their_words_as_prefix() -> None:
    window = history_of_three_utterances().window(24.0, 20.0, not_before=0.0, latest=20.0)
    assert window.start == 0.0
    assert [w.bare for w in window.prefix] == ["one", "two", "three", "four", "five", "six"]
    # The 11 s pause between the second and third utterances is cut to 1 s.
    assert window.pieces == (Piece(0.0, 9.5), Piece(19.5, 24.0))
    assert window.seconds == pytest.approx(14.0)


def test_a_shorter_window_starts_at_a_later_utterance() -> None:
    window = history_of_three_utterances().window(24.0, 10.0, not_before=0.0, latest=20.0)
    # It starts where the first utterance's final ended (a window may start at any final).
    assert window.start == 4.0 and [w.bare for w in window.prefix] == ["four", "five", "six"]
    alone = history_of_three_utterances().window(24.0, 3.0, not_before=0.0, latest=20.0)
    assert alone.start == 20.0 and alone.prefix == ()


def test_a_window_never_starts_after_the_settled_end_nor_before_the_kept_audio() -> None:
    history = history_of_three_utterances()
    window = history.window(24.0, 20.0, not_before=4.5, latest=20.0)
    assert window.start == 5.0  # audio before 4.5 s is gone
    # An utterance longer than the window: it starts at the settled end, prefix-free.
    history.begin(30.0)
    history.extend(60.0)
    long = history.window(60.0, 20.0, not_before=0.0, latest=45.0)
    assert long.start == 45.0 and long.prefix == () and long.seconds == 15.0


def test_decoded_times_map_back_through_the_cut_pause() -> None:
    window = Window((Piece(0.0, 9.5), Piece(19.5, 24.0)), ())
    assert window.to_channel_time(2.0) == 2.0
    assert window.to_channel_time(10.0) == pytest.approx(20.0)  # 0.5 s into the second piece
    word = window.word_in_channel_time(DecodedWord(" seven", 9.6, 10.2, 0.9))
    assert (word.start, word.end) == (pytest.approx(19.6), pytest.approx(20.2))
    assert window.to_channel_time(99.0) == 24.0


def test_forgetting_drops_what_the_audio_no_longer_holds() -> None:
    history = history_of_three_utterances()
    history.forget_before(5.0)
    assert history.starts[0] == 5.0 and history.settled[0].bare == "four"


def test_a_phrase_said_twice_back_to_back_is_a_loop() -> None:
    looped = words("leave now when you arrive on time leave now when you arrive on time")
    assert repeated_run_at(looped) == 7
    assert [w.bare for w in without_repetition(looped)] == (
        ["leave", "now", "when", "you", "arrive", "on", "time"]
    )


def test_only_the_repeat_goes_the_words_after_it_stay() -> None:
    """Issue 22: everything after the first repeated run was dropped, live and in files."""
    said = words("so we need to ship it we need to ship it by friday and then we can all go home")
    assert " ".join(w.bare for w in without_repetition(said)) == (
        "so we need to ship it by friday and then we can all go home"
    )
    times = [(w.start, w.end) for w in without_repetition(said)]
    assert times == [(w.start, w.end) for i, w in enumerate(said) if not 6 <= i <= 10]


def test_a_loop_said_many_times_is_said_once_and_what_follows_stays() -> None:
    looped = words("we will be there " * 5 + "at noon")
    assert [w.bare for w in without_repetition(looped)] == [
        "we", "will", "be", "there", "at", "noon"
    ]  # fmt: skip
    context = words("we choose to go to the moon")
    again = words("to go to the moon in this decade")  # repeats the context's end
    assert [w.bare for w in without_repetition(again, context=context)] == ["in", "this", "decade"]


def test_repeating_the_context_is_a_loop_too() -> None:
    context = words("we choose to go to the moon")
    assert repeated_run_at(words("to go to the moon to go to the moon")) == 5
    # The decode starts by saying again the words it was given as its prefix.
    assert repeated_run_at(words("to go to the moon in this decade"), context=context) == 0
    assert repeated_run_at(words("go to the moon"), context=context) == 0
    assert repeated_run_at(words("in this decade and do the other things"), context=context) == -1


def test_people_repeating_a_word_or_three_is_not_a_loop() -> None:
    assert repeated_run_at(words("had he married a more a amiable woman")) == -1
    assert repeated_run_at(words("no no no no I said no")) == -1
    assert repeated_run_at(words("I don't know I don't know")) == -1


def test_the_bench_counts_any_four_words_said_twice_in_a_final() -> None:
    assert repeated_ngram(
        ["at", "the", "end", "of", "the", "day", "and", "at", "the", "end", "of", "the", "week"]
    ) == (
        "at",
        "the",
        "end",
        "of",
    )
    assert (
        repeated_ngram(["ask", "not", "what", "your", "country", "can", "do", "for", "you"]) is None
    )
