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
