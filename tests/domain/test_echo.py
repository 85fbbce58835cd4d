"""The Both-mode echo guard: a You final repeating an Others final is dropped and counted."""

from __future__ import annotations

from app.domain.echo import EchoGuard, echo_share, normalised_words, sound_share
from app.domain.transcript import Segment

SENTENCE = "the quarterly numbers look better than we expected"


def you(text: str, start: float, end: float) -> Segment:
    return Segment(text, start, end, "You")


def others(text: str, start: float, end: float) -> Segment:
    return Segment(text, start, end, "Others")


def test_words_are_compared_without_case_or_punctuation() -> None:
    assert normalised_words("Hello, World! It's") == ["hello", "world", "it's"]
    assert echo_share(["a", "b", "c"], ["x", "a", "b", "c"]) == 1.0


def test_an_echo_arriving_after_its_others_final_is_dropped_and_counted() -> None:
    guard = EchoGuard()
    assert guard.offer(others(SENTENCE, 1.0, 4.0)) == [others(SENTENCE, 1.0, 4.0)]
    assert guard.offer(you(SENTENCE.capitalize() + ".", 1.15, 4.15)) == []
    assert guard.dropped == 1
    assert not guard.holding


def test_an_echo_arriving_before_its_others_final_is_held_then_dropped() -> None:
    guard = EchoGuard()
    assert guard.offer(you(SENTENCE, 1.1, 4.1)) == []  # held: its twin may still come
    assert guard.holding
    assert guard.offer(others(SENTENCE, 1.0, 4.0)) == [others(SENTENCE, 1.0, 4.0)]
    assert guard.dropped == 1
    assert not guard.holding
    assert guard.flush() == []


def test_an_echo_with_a_word_or_two_misheard_is_still_an_echo() -> None:
    guard = EchoGuard()
    guard.offer(others(SENTENCE, 1.0, 4.0))
    assert guard.offer(you("the quarterly number look bitter than we expected", 1.2, 4.2)) == []
    assert guard.dropped == 1


def test_an_echo_split_across_two_others_finals_is_dropped() -> None:
    guard = EchoGuard()
    guard.offer(others("the quarterly numbers look", 1.0, 2.5))
    guard.offer(others("better than we expected", 2.6, 4.0))
    assert guard.offer(you(SENTENCE, 1.1, 4.1)) == []
    assert guard.dropped == 1


def test_the_user_talking_over_the_others_with_other_words_is_kept() -> None:
    guard = EchoGuard()
    guard.offer(others(SENTENCE, 1.0, 4.0))
    mine = you("sorry can I jump in with a question", 2.0, 4.5)
    assert guard.offer(mine) == []  # held until Others has settled past its end
    assert guard.settle("Others", 5.0) == [mine]
    assert guard.dropped == 0


def test_the_same_words_far_apart_in_time_are_not_an_echo() -> None:
    guard = EchoGuard()
    guard.offer(others(SENTENCE, 1.0, 4.0))
    guard.settle("Others", 20.0)
    mine = you(SENTENCE, 10.0, 13.0)  # the user repeats it later: not an echo
    assert guard.offer(mine) == [mine]
    assert guard.dropped == 0


def test_a_short_final_needs_every_word_matched() -> None:
    guard = EchoGuard()
    guard.offer(others("okay thanks", 1.0, 2.0))
    mine = you("okay sure", 1.1, 2.1)
    assert guard.offer(mine) == []
    assert guard.settle("Others", 3.0) == [mine]
    assert guard.offer(you("okay thanks", 1.1, 2.1)) == []
    assert guard.dropped == 1


def test_the_user_speaking_alone_is_shown_once_the_hold_runs_out() -> None:
    """Others silent: nothing settles that channel, so the stream clock bounds the hold."""
    guard = EchoGuard()
    mine = you("I am talking alone here", 1.0, 3.0)
    assert guard.offer(mine) == []
    assert guard.release(now=3.5) == []
    assert guard.release(now=3.0 + guard.rule.max_hold_s) == [mine]
    assert not guard.holding
    assert guard.dropped == 0


def test_nothing_is_held_past_the_end_of_the_stream() -> None:
    guard = EchoGuard()
    first, second = you("one thing", 1.0, 2.0), you("another thing", 3.0, 4.0)
    guard.offer(first)
    guard.offer(second)
    assert guard.flush() == [first, second]
    assert not guard.holding


def test_finals_of_other_sources_pass_untouched() -> None:
    guard = EchoGuard()
    marker = Segment("[gap]", 0.0, 1.0, "", gap_s=1.0)
    assert guard.offer(marker) == [marker]


def test_an_others_final_labelled_with_a_voice_still_catches_its_echo() -> None:
    """With diarize the Others channel's finals show as "Speaker 2": the guard knows the
    channel from the service, not from the label shown."""
    guard = EchoGuard()
    voiced = Segment(SENTENCE, 1.0, 4.0, "Speaker 2")
    assert guard.offer(you(SENTENCE, 1.1, 4.1)) == []
    assert guard.offer(voiced, "Others") == [voiced]
    assert guard.dropped == 1 and not guard.holding


def test_an_echo_final_that_comes_late_is_held_from_when_it_came_not_from_its_words() -> None:
    """Both channels' finals come seconds after their words, the Others one sometimes later
    than its echo's (a longer utterance, a busy CPU: once in CI). A hold counted from the
    echo's words was already over when it came, and the echo showed as a You line."""
    guard = EchoGuard()
    assert guard.release(now=5.5) == []  # the stream is 3.5 s past the echo's words
    assert guard.offer(you("And so am I fellow Americans.", 0.1, 2.0)) == []
    assert guard.release(now=6.0) == []  # still held: its twin may still come
    twin = others("And so my fellow Americans, ask not what your country", 0.0, 4.0)
    assert guard.offer(twin) == [twin]
    assert guard.dropped == 1 and not guard.holding


def test_the_user_speaking_while_the_stream_is_far_ahead_waits_only_the_hold() -> None:
    guard = EchoGuard()
    guard.release(now=5.5)
    mine = you("I am talking alone here", 1.0, 3.0)
    assert guard.offer(mine) == []
    assert guard.release(now=5.5 + guard.rule.max_hold_s - 0.1) == []
    assert guard.release(now=5.5 + guard.rule.max_hold_s) == [mine]


def test_an_echo_misheard_in_several_words_is_still_an_echo_by_sound() -> None:
    """The mic hears the loudspeakers a little differently: 'Ask not what your country can
    do for you' came back as 'as not what you're country can due four you' (4 of 9 words
    spelled otherwise: 0.56 by spelling), but it sounds the same."""
    heard = normalised_words("as not what you're country can due four you")
    said = normalised_words("Ask not what your country can do for you")
    assert echo_share(heard, said) < 0.6 <= sound_share(heard, said)
    guard = EchoGuard()
    guard.offer(others("Ask not what your country can do for you", 3.0, 6.0))
    assert guard.offer(you("As not what you're country can due four you.", 3.1, 6.1)) == []
    assert guard.dropped == 1


def test_words_that_only_share_sounds_here_and_there_are_not_an_echo() -> None:
    """Every sentence shares single sounds with another: only runs of them count."""
    mine = normalised_words("I think we should move the launch to next week")
    theirs = normalised_words(
        "the quarterly numbers look better than we expected so marketing can spend more"
    )
    assert sound_share(mine, theirs) < 0.6
    guard = EchoGuard()
    guard.offer(others(" ".join(theirs), 1.0, 6.0))
    line = you(" ".join(mine), 2.0, 5.0)
    assert guard.offer(line) == [line]  # Others has settled past it: shown at once
    assert guard.dropped == 0
