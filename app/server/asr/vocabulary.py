"""The user's vocabulary, checked against what was heard (pure).

Keyterms reach whisper as its previous-text prompt, which makes it spell a name it hears
the user's way ("Subiyako" becomes "Subiaco"). A prompted decode can also copy a term where
it was not said (seen on accented speech: "Wing, Wint, Siobhan, What's there?"). So a decode
that writes a keyterm is checked against a decode of the same audio without the prompt: the
term stays only where that one heard something spelled much like it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher

from app.server.asr.decoder import DecodedWord

# How alike the term and the unprompted words at its place must be spelled (difflib ratio).
# The names tiny.en mishears without the prompt score 0.67-0.88 ("Panerts"/"Pannartz",
# "Schofer"/"Schoeffer"); a copied term replaces an unrelated word ("when"/"Nguyen": 0.40).
MIN_LIKENESS = 0.6
# Unprompted words this close in time to a term stand at its place (seconds).
NEARBY_S = 0.3
_LETTERS = re.compile(r"[^\w]+")


def _letters(text: str) -> str:
    return _LETTERS.sub("", text.lower())


def term_words(keyterms: Sequence[str]) -> frozenset[str]:
    return frozenset(_letters(word) for term in keyterms for word in term.split() if word.strip())


def _term_in(word: DecodedWord, terms: frozenset[str]) -> str:
    """The term `word` writes, possessive or plural included ("Tchaikovsky's"), or ""."""
    letters = _letters(word.text)
    if letters in terms:
        return letters
    return letters[:-1] if letters.endswith("s") and letters[:-1] in terms else ""


def writes_a_term(words: Sequence[DecodedWord], keyterms: Sequence[str]) -> bool:
    terms = term_words(keyterms)
    return any(_term_in(w, terms) for w in words)


def terms_were_heard(
    prompted: Sequence[DecodedWord], plain: Sequence[DecodedWord], keyterms: Sequence[str]
) -> bool:
    """Whether every term word in `prompted` has unprompted words at its place spelled alike."""
    terms = term_words(keyterms)
    for word in prompted:
        term = _term_in(word, terms)
        if not term:
            continue
        nearby = [
            w for w in plain if w.end >= word.start - NEARBY_S and w.start <= word.end + NEARBY_S
        ]
        if not any(_likeness(term, run) >= MIN_LIKENESS for run in _runs(nearby)):
            return False
    return True


def _runs(words: Sequence[DecodedWord]) -> list[str]:
    """Each word and each run of consecutive words, joined without spaces ("Swain Heim")."""
    letters = [_letters(w.text) for w in words]
    return [
        "".join(letters[a:b]) for a in range(len(letters)) for b in range(a + 1, len(letters) + 1)
    ]


def _likeness(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio() if a and b else 0.0
