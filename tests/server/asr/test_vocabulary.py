"""Keyterms checked against what whisper heard without them (pure)."""

from __future__ import annotations

import pytest

from app.server.asr.decoder import DecodedWord
from app.server.asr.vocabulary import terms_were_heard, writes_a_term


def words(*spec: tuple[str, float, float]) -> list[DecodedWord]:
    return [DecodedWord(" " + text, start, end, 0.9) for text, start, end in spec]


@pytest.mark.parametrize(
    ("term", "plain"),
    [
        ("Pannartz", [("Panerts", 1.0, 1.6)]),
        ("Schoeffer.", [("Schofer", 1.1, 1.5)]),
        ("Sweynheim", [("Swain", 0.9, 1.2), ("Heim", 1.2, 1.6)]),  # two words at its place
    ],
)
def test_a_term_spelled_like_what_was_heard_at_its_place_stays(
    term: str, plain: list[tuple[str, float, float]]
) -> None:
    prompted = words(("began", 0.2, 0.8), (term, 1.0, 1.6))
    keyterms = ("Pannartz", "Schoeffer", "Sweynheim")
    assert writes_a_term(prompted, keyterms)
    assert terms_were_heard(prompted, words(("began", 0.2, 0.8), *plain), keyterms)


def test_a_term_over_an_unlike_word_or_nothing_was_not_heard() -> None:
    prompted = words(("Nguyen", 1.0, 1.3), ("is", 1.3, 1.4))
    assert not terms_were_heard(prompted, words(("when", 1.0, 1.3), ("is", 1.3, 1.4)), ("Nguyen",))
    assert not terms_were_heard(prompted, words(("is", 1.3, 1.4)), ("Nguyen",))
    # Spelled alike, but elsewhere in time: not at its place.
    assert not terms_were_heard(prompted, words(("Nguyen", 5.0, 5.3)), ("Nguyen",))


def test_words_of_a_multi_word_term_are_terms_and_other_words_are_not() -> None:
    assert writes_a_term(words(("Peter", 0, 1)), ("Peter Schoeffer",))
    assert not writes_a_term(words(("printed", 0, 1)), ("Peter Schoeffer",))
    assert terms_were_heard(words(("printed", 0, 1)), [], ("Peter Schoeffer",))


def test_a_term_with_a_possessive_is_the_term() -> None:
    """Seen on accented speech: "Maki Tchaikovsky's" copied from the prompt."""
    prompted = words(("Tchaikovsky's", 1.0, 1.6))
    assert writes_a_term(prompted, ("Tchaikovsky",))
    assert not terms_were_heard(prompted, words(("cheap", 1.0, 1.2)), ("Tchaikovsky",))
