"""Echo guard for Both mode: a "You" final that repeats an "Others" final is the microphone
hearing the loudspeakers, not the user; it is dropped (and counted) so a sentence shows once.

Matching: a You final is an echo when it overlaps an Others final in time (the echo lags the
loudspeaker by 0 to `lag_s`; both channels are on the one stream clock) and at least
`min_share` of its normalised words are found, in order, in the overlapping Others words
(difflib's matching blocks: a word or two misheard by the mic still counts). Finals of one or
two words need every word matched, since a short word ("yes", "okay") is easily said by both.

The hold: the two channels settle independently, so the echo's You final may come before its
Others twin. A You final that matches nothing yet is held until the Others channel has
settled past its end (+ `margin_s`), or, when Others says nothing, until the stream clock is
`max_hold_s` past its end. Cost: the user's own sentences show that much later while the
others speak, and up to `max_hold_s` later when they are silent; Others finals never wait.

Order: what one call returns is in start-time order, so a held You final released by an
Others final that started after it comes out before it (a tie keeps the Others final first).
An Others final that comes while an earlier You final is still held is shown at once, ahead
of it: Others finals never wait.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from app.domain.sounds import sound_key
from app.domain.transcript import Segment

_WORD = re.compile(r"[\w']+")
# Others finals are kept this long (stream seconds) after the latest one, for late You finals.
_KEEP_OTHERS_S = 30.0
# Sounds shared one or two at a time are in any two sentences; runs of three say an echo.
MIN_SOUND_RUN = 3


def normalised_words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class EchoRule:
    lag_s: float = 0.3  # the loudspeaker-to-mic delay allowed
    min_share: float = 0.6  # of the You final's words, found in order in the Others words
    margin_s: float = 0.3  # Others settled this far past a held You final's end: release it
    max_hold_s: float = 4.0  # stream seconds after it came at most, when Others settles nothing


def echo_share(you: list[str], others: list[str]) -> float:
    """The share of `you`'s words found, in order, in `others`."""
    if not you:
        return 0.0
    blocks = SequenceMatcher(None, you, others, autojunk=False).get_matching_blocks()
    return sum(block.size for block in blocks) / len(you)


def sound_share(you: list[str], others: list[str]) -> float:
    """The share of `you`'s sounds found, in order and in runs, in `others`' sounds."""
    mine = "".join(map(sound_key, you))
    if not mine:
        return 0.0
    theirs = "".join(map(sound_key, others))
    blocks = SequenceMatcher(None, mine, theirs, autojunk=False).get_matching_blocks()
    return sum(block.size for block in blocks if block.size >= MIN_SOUND_RUN) / len(mine)


@dataclass
class EchoGuard:
    you: str = "You"
    others: str = "Others"
    rule: EchoRule = field(default_factory=EchoRule)
    dropped: int = 0  # You finals found to be echoes
    _others_finals: list[Segment] = field(default_factory=list)
    _others_settled: float = 0.0
    _held: list[tuple[Segment, float]] = field(default_factory=list)  # and when it goes
    _clock: float = 0.0  # the stream clock at the latest `release`

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def settle(self, source: str, until: float) -> list[Segment]:
        """A final (empty ones too) says `source` has settled up to `until`."""
        if source != self.others:
            return []
        self._others_settled = max(self._others_settled, until)
        return self._release(lambda s, _: self._others_settled >= s.end + self.rule.margin_s)

    def offer(
        self, segment: Segment, channel: str | None = None, *, until: float | None = None
    ) -> list[Segment]:
        """Take a final of `channel` (its source unless given: a final labelled with a voice,
        "Speaker 2", is still on the Others channel); return the finals to show now, in start
        order (the echo is never among them). `until`: where the final's message says its
        channel has settled to, when that is past its last word (the trailing silence)."""
        channel = segment.source if channel is None else channel
        if channel == self.others:
            self._others_finals.append(segment)
            latest = max(s.end for s in self._others_finals)
            self._others_finals = [
                s for s in self._others_finals if s.end >= latest - _KEEP_OTHERS_S
            ]
            held = [(s, until) for s, until in self._held if not self._is_echo(s)]
            self.dropped += len(self._held) - len(held)
            self._held = held
            released = self.settle(channel, max(segment.end, until or segment.end))
            return _in_start_order([segment, *released])  # a tie: the Others final first
        if channel != self.you:
            return [segment]
        if self._is_echo(segment):
            self.dropped += 1
            return []
        if self._others_settled >= segment.end + self.rule.margin_s:
            return [segment]  # the Others words it could echo are all in: nothing to wait for
        self._held.append((segment, max(segment.end, self._clock) + self.rule.max_hold_s))
        return []

    def release(self, now: float) -> list[Segment]:
        """The held finals whose hold ran out by stream time `now`."""
        self._clock = max(self._clock, now)
        return self._release(lambda s, until: now >= until)

    def flush(self) -> list[Segment]:
        """The stream ended: nothing more will come to match, so show what is held."""
        return self._release(lambda s, _: True)

    def _release(self, due: Callable[[Segment, float], bool]) -> list[Segment]:
        out = [s for s, until in self._held if due(s, until)]
        self._held = [(s, until) for s, until in self._held if not due(s, until)]
        return _in_start_order(out)

    def _is_echo(self, you: Segment) -> bool:
        words = normalised_words(you.text)
        if not words:
            return False
        overlapping = [
            s
            for s in self._others_finals
            if s.start < you.end and s.end + self.rule.lag_s > you.start
        ]
        overlapping.sort(key=lambda s: s.start)
        heard = [w for s in overlapping for w in normalised_words(s.text)]
        if len(words) <= 2:
            return echo_share(words, heard) >= 1.0
        share = max(echo_share(words, heard), sound_share(words, heard))
        return share >= self.rule.min_share


def _in_start_order(finals: list[Segment]) -> list[Segment]:
    return sorted(finals, key=lambda s: s.start)  # stable: ties keep the order they came in
