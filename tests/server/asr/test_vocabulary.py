"""Keyterms checked against what whisper heard without them (pure)."""

from __future__ import annotations

import pytest

from app.domain.sounds import likeness
from app.server.asr.decoder import DecodedWord
from app.server.asr.vocabulary import checked, occurrences, writes_a_term


def words(*spec: tuple[str, float, float]) -> list[DecodedWord]:
    return [DecodedWord(" " + text, start, end, 0.9) for text, start, end in spec]


def text(kept: list[DecodedWord]) -> str:
    return " ".join(w.bare for w in kept)


@pytest.mark.parametrize(
    ("term", "plain"),
    [
        ("Pannartz", [("Panerts", 1.0, 1.6)]),
        ("Schoeffer.", [("Schofer", 1.1, 1.5)]),
        ("Sweynheim", [("Swain", 0.9, 1.2), ("Heim", 1.2, 1.6)]),  # two words at its place
        ("Gurkhas", [("workers", 1.0, 1.5)]),  # sounds alike: an unseen session's miss
        ("Subiaco", [("Subiyako", 1.0, 1.6)]),
    ],
)
def test_a_term_spelled_or_sounding_like_what_was_heard_at_its_place_stays(
    term: str, plain: list[tuple[str, float, float]]
) -> None:
    prompted = words(("began", 0.2, 0.8), (term, 1.0, 1.6))
    keyterms = ("Pannartz", "Schoeffer", "Sweynheim", "Gurkhas", "Subiaco")
    assert writes_a_term(prompted, keyterms)
    assert checked(prompted, words(("began", 0.2, 0.8), *plain), keyterms) == prompted


def test_a_term_over_an_unlike_word_or_nothing_was_not_heard() -> None:
    prompted = words(("Nguyen", 1.0, 1.3), ("is", 1.3, 1.4))
    plain = words(("when", 1.0, 1.3), ("is", 1.3, 1.4))
    assert checked(prompted, plain, ("Nguyen",)) == plain
    assert text(checked(prompted, words(("is", 1.3, 1.4)), ("Nguyen",))) == "is"
    # Spelled alike, but elsewhere in time: not at its place.
    far = words(("Nguyen", 5.0, 5.3))
    assert checked(prompted, far, ("Nguyen",)) == far


def test_a_term_is_judged_whole_not_word_by_word() -> None:
    """An unseen session: "pot limit Omaha" came out "Pat Lemon Omaha". Checked word by word,
    "limit" was spelled too unlike "Lemon"; the term as a whole sounds like what was heard."""
    prompted = words(
        ("play", 0.0, 0.4), ("pot", 0.5, 0.7), ("limit", 0.7, 1.0), ("Omaha", 1.0, 1.5)
    )
    plain = words(("play", 0.0, 0.4), ("Pat", 0.5, 0.7), ("Lemon", 0.7, 1.0), ("Omaha", 1.0, 1.5))
    assert occurrences(prompted, ("pot limit Omaha",))[0].last == 3
    assert checked(prompted, plain, ("pot limit Omaha",)) == prompted


def test_a_term_heard_stays_when_another_was_not() -> None:
    prompted = words(
        ("the", 0.0, 0.2), ("Gurkhas", 0.2, 0.8), ("met", 0.9, 1.1), ("Nguyen", 1.2, 1.6)
    )
    plain = words(("the", 0.0, 0.2), ("workers", 0.2, 0.8), ("met", 0.9, 1.1), ("when", 1.2, 1.6))
    assert text(checked(prompted, plain, ("Gurkhas", "Nguyen"))) == "the Gurkhas met when"


def test_words_of_a_multi_word_term_are_terms_and_other_words_are_not() -> None:
    assert writes_a_term(words(("Peter", 0, 1)), ("Peter Schoeffer",))
    assert not writes_a_term(words(("printed", 0, 1)), ("Peter Schoeffer",))
    prompted = words(("printed", 0, 1))
    assert checked(prompted, [], ("Peter Schoeffer",)) == prompted
    # Function words inside a term are no sign of the prompt alone.
    assert not writes_a_term(words(("of", 0, 1)), ("Bank of Canada",))
    assert writes_a_term(words(("Bank", 0, 0.5), ("of", 0.5, 1)), ("Bank of Canada",))


def test_a_term_with_a_possessive_is_the_term() -> None:
    """Seen on accented speech: "Maki Tchaikovsky's" copied from the prompt."""
    prompted = words(("Tchaikovsky's", 1.0, 1.6))
    assert writes_a_term(prompted, ("Tchaikovsky",))
    assert text(checked(prompted, words(("cheap", 1.0, 1.2)), ("Tchaikovsky",))) == "cheap"


@pytest.mark.parametrize(
    ("term", "heard"),
    [("Kubernetes", "governor"), ("Oaxaca", "what"), ("Reykjavik", "right"), ("Nguyen", "new")],
)
def test_unrelated_words_are_not_alike(term: str, heard: str) -> None:
    assert likeness(term.lower(), heard) < 0.6


def test_likeness_takes_any_script_and_accents() -> None:
    """Keyterms in other languages (base is multilingual): no phonetic key, no crash."""
    assert likeness("dvořák", "dvorak") == 1.0
    assert likeness("北京", "北京") == 1.0
    assert likeness("北京", "东京") < 0.6
