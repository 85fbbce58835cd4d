"""LocalAgreement-2: settle the words two consecutive hypotheses agree on (pure).

Each hypothesis covers the audio after the last commit. The longest common prefix of the
previous and the new hypothesis (compared without case and punctuation) is committed; the rest
stays interim. Commits never change afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.server.asr.decoder import DecodedWord

_NON_WORD = re.compile(r"[^\w']+")


def normalise(word: str) -> str:
    return _NON_WORD.sub("", word.lower())


def drop_repeated_prefix(
    committed: Sequence[DecodedWord], words: Sequence[DecodedWord], max_ngram: int = 5
) -> list[DecodedWord]:
    """Drop leading words that repeat the tail of what was committed just before them.

    A decode that starts at the commit point can re-hear the end of the last committed word.
    """
    tail = [normalise(w.text) for w in committed[-max_ngram:]]
    head = [normalise(w.text) for w in words[:max_ngram]]
    for n in range(min(len(tail), len(head)), 0, -1):
        if tail[-n:] == head[:n] and words[n - 1].start < _cut_slack(committed):
            return list(words[n:])
    return list(words)


def _cut_slack(committed: Sequence[DecodedWord]) -> float:
    # Only words heard right at the cut can be echoes of committed ones.
    return committed[-1].end + 1.0 if committed else float("-inf")


@dataclass
class LocalAgreement:
    previous: list[DecodedWord]

    def __init__(self) -> None:
        self.previous = []

    def reset(self) -> None:
        self.previous = []

    def insert(self, hypothesis: Sequence[DecodedWord], *, keep_last: int = 1) -> list[DecodedWord]:
        """Take a new hypothesis; return the newly agreed words (possibly none).

        `keep_last` words at the end are never committed: the audio may cut them mid-word.
        """
        agreed = 0
        limit = min(len(self.previous), max(0, len(hypothesis) - keep_last))
        while agreed < limit and normalise(self.previous[agreed].text) == normalise(
            hypothesis[agreed].text
        ):
            agreed += 1
        committed = list(hypothesis[:agreed])
        self.previous = list(hypothesis[agreed:])
        return committed
