"""What a decode hears: the audio window before a point, and the settled words in it (pure).

Whisper gets words right from what it hears around them. A final decoded from the utterance
alone misses the earlier sentences; so a decode ending at time `end` takes up to `window_s` of
the channel's speech before it, starting where an earlier utterance (or an earlier final)
started, with the words already settled in that span forced as its text prefix: only the
words after them are new. Long pauses between utterances are shortened to `gap_keep_s`
(silence costs encoder time and invites invented words), so a window is a list of pieces of
the channel's audio, and the decoder's times are mapped back through them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.server.asr.decoder import DecodedWord


@dataclass(frozen=True)
class Piece:
    start: float  # seconds of channel audio
    end: float


@dataclass(frozen=True)
class Window:
    pieces: tuple[Piece, ...]
    prefix: tuple[DecodedWord, ...]  # settled words inside the window, in order

    @property
    def start(self) -> float:
        return self.pieces[0].start

    @property
    def seconds(self) -> float:
        return sum(p.end - p.start for p in self.pieces)

    def to_channel_time(self, t: float) -> float:
        """A time in the decoded (joined) audio, as seconds of channel audio."""
        offset = 0.0
        for piece in self.pieces:
            length = piece.end - piece.start
            if t <= offset + length:
                return piece.start + max(0.0, t - offset)
            offset += length
        return self.pieces[-1].end

    def word_in_channel_time(self, word: DecodedWord) -> DecodedWord:
        start = self.to_channel_time(word.start)
        end = max(start, self.to_channel_time(word.end))
        return DecodedWord(word.text, start, end, word.probability)


@dataclass
class SpeechHistory:
    """One channel's speech regions and settled words, kept for `keep_s` of audio."""

    gap_keep_s: float = 1.0
    keep_s: float = 60.0
    regions: list[list[float]] = field(default_factory=list)  # [start, end]; the last may be open
    settled: list[DecodedWord] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)  # where a window may begin, ascending

    def begin(self, start: float) -> None:
        """Speech starts (preroll included); a window may begin here."""
        self.regions.append([start, start])
        self._add_start(start)

    def extend(self, end: float) -> None:
        """The open region reaches `end`."""
        if self.regions:
            self.regions[-1][1] = max(self.regions[-1][1], end)

    def close(self, end: float) -> None:
        """The open region ended at `end`."""
        if self.regions:
            self.regions[-1][1] = end

    def settle(self, words: Sequence[DecodedWord], cut: float) -> None:
        """Words became final up to `cut`; a later window may also begin at `cut`."""
        self.settled.extend(words)
        self._add_start(cut)

    def _add_start(self, time: float) -> None:
        if not self.starts or time > self.starts[-1]:
            self.starts.append(time)

    def forget_before(self, time: float) -> None:
        self.regions = [r for r in self.regions if r[1] >= time]
        self.settled = [w for w in self.settled if w.start >= time]
        self.starts = [s for s in self.starts if s >= time]

    def window(self, end: float, window_s: float, *, not_before: float, latest: float) -> Window:
        """The longest window ending at `end` of at most `window_s` joined seconds, starting
        at a known start in [not_before, latest] (`latest`: the end of what is settled, so
        the window holds all that is not). With no start that fits, it begins at `latest`."""
        first = bisect_right(self.starts, not_before - 1e-9)
        for start in self.starts[first:]:
            if start > latest + 1e-9:
                break
            pieces = self._pieces(start, end)
            if sum(p.end - p.start for p in pieces) <= window_s:
                prefix = tuple(w for w in self.settled if w.start >= start - 1e-6)
                return Window(pieces, prefix)
        start = min(latest, end)
        return Window((Piece(start, end),), ())

    def _pieces(self, start: float, end: float) -> tuple[Piece, ...]:
        """Speech regions in [start, end], padded by half the kept gap, overlaps merged."""
        pad = self.gap_keep_s / 2
        pieces: list[Piece] = []
        for region_start, region_end in self.regions:
            a = max(start, region_start - pad)
            b = min(end, region_end + pad)
            if b <= a:
                continue
            if pieces and a <= pieces[-1].end:
                pieces[-1] = Piece(pieces[-1].start, max(pieces[-1].end, b))
            else:
                pieces.append(Piece(a, b))
        if not pieces:
            return (Piece(start, end),)
        # The window runs to `end` even when the last region was closed a little earlier.
        pieces[0] = Piece(start, pieces[0].end) if pieces[0].start - start < pad else pieces[0]
        pieces[-1] = Piece(pieces[-1].start, end) if end - pieces[-1].end < pad else pieces[-1]
        return tuple(pieces)
