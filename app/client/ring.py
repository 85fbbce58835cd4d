"""AudioRing: the audio a client holds for its server, bounded, in stream time.

It keeps everything from the end of the last final the server sent (so a reconnect can replay
the words in flight) up to the newest captured sample, and a send cursor inside that span.
Audio goes when the server settles it (`confirm`), when the replay cover is bounded
(`release`), or when the ring is full. Audio that goes unsent is a gap in the transcript at
once. Audio that goes sent but unsettled is at risk: the server may still settle it, but if
the connection is lost first (`connection_lost`) no replay can bring it back, and it becomes a
gap too. Every loss is counted exactly. Positions are sample frames since the start of the
stream. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

OFFLINE = "offline"  # captured while no server took it, beyond the ring's capacity
UNSETTLED = "unsettled"  # sent, but the connection dropped before the server settled it


@dataclass(frozen=True)
class Gap:
    start_s: float
    length_s: float
    cause: str = OFFLINE


class AudioRing:
    def __init__(
        self, capacity_s: float, sample_rate: int, channels: int = 1, *, lead_in_s: float = 0.0
    ) -> None:
        if capacity_s <= 0:
            raise ValueError("the ring buffer needs a positive capacity")
        self.sample_rate = sample_rate
        self.frame_bytes = 2 * channels
        self.capacity_frames = round(capacity_s * sample_rate)
        # Settled audio kept before the unsettled: a replay starts with this much context.
        self.lead_in_frames = round(lead_in_s * sample_rate)
        self._chunks: deque[tuple[int, bytes]] = deque()  # (start frame, pcm)
        self.start = 0  # first frame held
        self.end = 0  # one past the newest frame
        self.sent = 0  # frames before this have been handed to a connection
        self.settled = 0  # frames before this the server has settled
        self._at_risk: list[tuple[int, int]] = []  # (start, end): sent, unsettled, not held
        self.lost_frames = 0
        # (start frame, frames, cause); contiguous ones of the same cause merged
        self._gaps: list[tuple[int, int, str]] = []
        self._sealed = 0  # gaps before this index were reported and must not grow

    # -- positions -------------------------------------------------------------------------
    def seconds(self, frames: int) -> float:
        return frames / self.sample_rate

    def frame_at(self, seconds: float) -> int:
        return round(seconds * self.sample_rate)

    @property
    def held_s(self) -> float:
        return self.seconds(self.end - self.start)

    @property
    def unsent_s(self) -> float:
        return self.seconds(self.end - self.sent)

    @property
    def unsettled_s(self) -> float:
        """Sent or not, what the server has not settled yet: what a file source waits on."""
        return self.seconds(self.end - max(self.settled, self.start))

    @property
    def lost_s(self) -> float:
        return self.seconds(self.lost_frames)

    @property
    def gaps(self) -> list[Gap]:
        return [Gap(self.seconds(a), self.seconds(n), cause) for a, n, cause in self._gaps]

    @property
    def held_bytes(self) -> int:
        return (self.end - self.start) * self.frame_bytes

    # -- operations ------------------------------------------------------------------------
    def append(self, pcm: bytes) -> None:
        """Add newly captured audio; drop the oldest audio beyond the capacity."""
        if len(pcm) % self.frame_bytes:
            raise ValueError("audio must hold whole sample frames")
        if not pcm:
            return
        self._chunks.append((self.end, pcm))
        self.end += len(pcm) // self.frame_bytes
        overflow = (self.end - self.start) - self.capacity_frames
        if overflow > 0:
            self._drop_before(self.start + overflow)

    def take(self, max_frames: int) -> tuple[int, bytes]:
        """The next unsent audio (at most `max_frames`), with its start frame; advances."""
        start = self.sent
        parts: list[bytes] = []
        remaining = min(max_frames, self.end - self.sent)
        position = self.sent
        for chunk_start, pcm in self._chunks:
            if remaining <= 0:
                break
            chunk_end = chunk_start + len(pcm) // self.frame_bytes
            if chunk_end <= position:
                continue
            lo = position - chunk_start
            hi = min(chunk_end - chunk_start, lo + remaining)
            parts.append(pcm[lo * self.frame_bytes : hi * self.frame_bytes])
            remaining -= hi - lo
            position = chunk_start + hi
        self.sent = position
        return start, b"".join(parts)

    def confirm(self, frame: int) -> None:
        """The server has settled everything before `frame`: it need never be replayed."""
        frame = min(frame, self.sent)
        if frame > self.settled:
            self.settled = frame
            self._at_risk = [(max(a, frame), b) for a, b in self._at_risk if b > frame]
        if frame - self.lead_in_frames > self.start:
            self._drop_before(frame - self.lead_in_frames)

    def release(self, frame: int) -> None:
        """Sent audio before `frame` need not be held for a replay (a bounded replay cover)."""
        frame = min(frame, self.sent)
        if frame <= self.settled:  # it only reaches settled audio: keep the lead-in
            frame = min(frame, self.settled - self.lead_in_frames)
        if frame > self.start:
            self._drop_before(frame)

    def connection_lost(self) -> int:
        """The server went away: what it never settled and the ring no longer holds is lost.
        Everything still held goes to the next connection; returns where that starts."""
        for start, end in self._at_risk:
            self.lost_frames += end - start
            self._record_gap(start, end - start, UNSETTLED)
        self._at_risk = []
        self.settled = max(self.settled, self.start)
        return self.rewind(self.start)

    def rewind(self, frame: int) -> int:
        """Send again from `frame` (or the oldest audio still held); return where it starts."""
        self.sent = min(max(frame, self.start), self.end)
        return self.sent

    def _drop_before(self, frame: int) -> None:
        risk_start, risk_end = max(self.start, self.settled), min(frame, self.sent)
        if risk_end > risk_start:
            if self._at_risk and self._at_risk[-1][1] == risk_start:
                risk_start = self._at_risk.pop()[0]
            self._at_risk.append((risk_start, risk_end))
        unsent_dropped = max(0, frame - max(self.sent, self.start))
        if unsent_dropped:
            gap_start = max(self.sent, self.start)
            self.lost_frames += unsent_dropped
            self._record_gap(gap_start, unsent_dropped, OFFLINE)
            self.sent = frame
        while self._chunks:
            chunk_start, pcm = self._chunks[0]
            chunk_end = chunk_start + len(pcm) // self.frame_bytes
            if chunk_end <= frame:
                self._chunks.popleft()
            elif chunk_start < frame:
                self._chunks[0] = (frame, pcm[(frame - chunk_start) * self.frame_bytes :])
                break
            else:
                break
        self.start = frame

    def seal_gaps(self) -> None:
        """The gaps so far have been reported: later losses start new gaps."""
        self._sealed = len(self._gaps)

    def _record_gap(self, start: int, frames: int, cause: str) -> None:
        if len(self._gaps) > self._sealed:
            last_start, last_frames, last_cause = self._gaps[-1]
            if last_start + last_frames == start and last_cause == cause:
                self._gaps[-1] = (last_start, last_frames + frames, cause)
                return
        self._gaps.append((start, frames, cause))
