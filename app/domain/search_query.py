"""What a user types into a search box, as an SQLite FTS5 query that cannot be a syntax error.

Every word becomes an FTS5 string (`"word"`), so `AND`, `OR`, `NOT`, `NEAR`, `-`, `^`, `:`,
brackets and the like are words to find, never operators. A word ending in `*` is a prefix;
text in double quotes is a phrase (an unbalanced quote is just dropped). All terms must match.
"""

from __future__ import annotations

import re

# A phrase in quotes (with an optional prefix star after it), or a run of other characters.
_TERM = re.compile(r'"([^"]*)"(\*?)|([^\s"]+)')
_WORD_CHARACTER = re.compile(r"\w")


def fts_query(typed: str) -> str | None:
    """The FTS5 MATCH expression for `typed`; None when it holds no word to look for."""
    if typed.count('"') % 2:
        typed = typed.replace('"', " ")  # half a phrase: the words still count
    terms = []
    for match in _TERM.finditer(typed):
        phrase, phrase_star, word = match.groups()
        text, prefix = (phrase, bool(phrase_star)) if word is None else _word(word)
        if _WORD_CHARACTER.search(text):  # "-" or "*" alone would match nothing
            escaped = text.strip().replace('"', '""')
            terms.append(f'"{escaped}"' + ("*" if prefix else ""))
    return " ".join(terms) if terms else None


def _word(word: str) -> tuple[str, bool]:
    stripped = word.rstrip("*")
    return stripped, stripped != word
