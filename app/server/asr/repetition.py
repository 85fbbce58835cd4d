"""Whisper's repetition loops, found in decoded words (pure).

A decoder sometimes emits a phrase twice ("Leave now when you arrive on time. Leave now when
you arrive on time.") or repeats the words it was given as context. People do repeat words,
but a run of four or more words said twice back to back is far rarer in speech than in
whisper's loops, so that is the test.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.server.asr.agreement import normalise
from app.server.asr.decoder import DecodedWord

MIN_RUN = 4
MAX_RUN = 40


def _keys(words: Sequence[DecodedWord]) -> list[str]:
    return [normalise(w.text) for w in words]


def _repeat(keys: Sequence[str], offset: int) -> tuple[int, int] | None:
    """(start, length) of the first run of >= MIN_RUN words at or after `offset` in `keys`
    that repeats the run just before it; None if none."""
    for start in range(offset, len(keys)):
        for length in range(MIN_RUN, min(start, len(keys) - start, MAX_RUN) + 1):
            run = keys[start : start + length]
            if all(run) and run == keys[start - length : start]:
                return start, length
    return None


def repeated_run_at(words: Sequence[DecodedWord], *, context: Sequence[DecodedWord] = ()) -> int:
    """Index in `words` where a run of >= MIN_RUN words starts that repeats the run just
    before it (within `words`, or the end of `context` followed by `words`); -1 if none."""
    found = _repeat(_keys(context) + _keys(words), len(context))
    return -1 if found is None else found[0] - len(context)


def without_repetition(
    words: Sequence[DecodedWord], *, context: Sequence[DecodedWord] = ()
) -> list[DecodedWord]:
    """`words` with every repeated run left out, and nothing else: "so we need to ship it we
    need to ship it by friday" keeps "by friday", and a loop said five times is said once."""
    kept = list(words)
    while (found := _repeat(_keys(context) + _keys(kept), len(context))) is not None:
        start, length = found[0] - len(context), found[1]
        del kept[start : start + length]
    return kept


def repeated_ngram(words: Sequence[str], n: int = MIN_RUN) -> tuple[str, ...] | None:
    """The first run of `n` words that occurs twice anywhere in `words` (the bench's count)."""
    keys = [normalise(w) for w in words]
    seen: set[tuple[str, ...]] = set()
    for i in range(len(keys) - n + 1):
        gram = tuple(keys[i : i + n])
        if gram in seen:
            return gram
        seen.add(gram)
    return None
