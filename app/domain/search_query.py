"""What a user types into a search box, as an SQLite FTS5 query that cannot be a syntax error.

Every word becomes an FTS5 string (`"word"`), so `AND`, `OR`, `NOT`, `NEAR`, `-`, `^`, `:`,
brackets and the like are words to find, never operators. A word ending in `*` is a prefix;
text in double quotes is a phrase (an unbalanced quote is just dropped). All terms must match.
"""

from __future__ import annotations

import re
import unicodedata

# A phrase in quotes (with an optional prefix star after it), or a run of other characters.
_TERM = re.compile(r'"([^"]*)"(\*?)|([^\s"]+)')


def fts_query(typed: str) -> str | None:
    """The FTS5 MATCH expression for `typed`; None when it holds no word to look for."""
    terms = [_fts_string(text) + ("*" if prefix else "") for text, prefix in _terms(typed)]
    return " ".join(terms) if terms else None


def matched_spans(text: str, typed: str) -> list[tuple[int, int]]:
    """Where the words a search for `typed` matched lie in `text`, as sorted, disjoint
    (start, end) character offsets: the index's matching (case and accents folded, a prefix
    for `word*`, a phrase's words in a row), for highlighting a hit."""
    tokens = [(start, end, _folded(text[start:end])) for start, end in _words(text)]
    spans = []
    for term, prefix in _terms(typed):
        wanted = [_folded(term[start:end]) for start, end in _words(term)]
        for first in range(len(tokens) - len(wanted) + 1):
            run = [token[2] for token in tokens[first : first + len(wanted)]]
            if run[:-1] == wanted[:-1] and (
                run[-1].startswith(wanted[-1]) if prefix else run[-1] == wanted[-1]
            ):
                spans.append((tokens[first][0], tokens[first + len(wanted) - 1][1]))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(
    text: str, spans: list[tuple[int, int]], before: int = 40
) -> tuple[str, list[tuple[int, int]]]:
    """`text` cut to begin about `before` characters ahead of its first span (at a word
    start, marked "…"), so that a hit far into a long line is in view; the spans moved with it."""
    if not spans or spans[0][0] <= before:
        return text, spans
    cut = text.find(" ", spans[0][0] - before) + 1
    if not 0 < cut <= spans[0][0]:
        cut = spans[0][0]
    shift = cut - 1  # one character of "…" stands for what was cut
    return "…" + text[cut:], [(start - shift, end - shift) for start, end in spans]


def _terms(typed: str) -> list[tuple[str, bool]]:
    """The terms typed, each (its text, whether it is a prefix), as `fts_query` reads them."""
    if typed.count('"') % 2:
        typed = typed.replace('"', " ")  # half a phrase: the words still count
    terms = []
    for match in _TERM.finditer(typed):
        phrase, phrase_star, word = match.groups()
        text, prefix = (phrase, bool(phrase_star)) if word is None else _word(word)
        if _words(text):  # "-", "*" or "_" alone would match nothing
            terms.append((text, prefix))
    return terms


def _fts_string(text: str) -> str:
    escaped = text.strip().replace('"', '""')
    return f'"{escaped}"'


def _words(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word as the index's unicode61 tokenizer cuts them: runs of letters,
    digits and combining marks (so a decomposed "é" stays in its word); spaces, punctuation
    ("_" too) and symbols separate."""
    words, start = [], None
    for index, character in enumerate(text):
        category = unicodedata.category(character)
        if category[0] in "LNM" or category == "Co":
            start = index if start is None else start
        elif start is not None:
            words.append((start, index))
            start = None
    if start is not None:
        words.append((start, len(text)))
    return words


def _folded(word: str) -> str:
    """A word as the index compares it: case folded, accents removed."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _word(word: str) -> tuple[str, bool]:
    stripped = word.rstrip("*")
    return stripped, stripped != word
