"""How fast a client may send audio to a server that limits it (pure).

A server with an audio rate limit closes a connection whose audio runs ahead of real time by
more than a burst, then faster than `factor` times real time (4429). It says so in its
handshake response (`Captionist-Audio-Rate: factor=2;burst=150`), so a client sending a file
paces itself to stay under it instead of being cut off.
"""

from __future__ import annotations

from dataclasses import dataclass

HEADER = "Captionist-Audio-Rate"
# The client stays this far inside the limit: clocks and frame sizes differ a little.
MARGIN = 0.9


@dataclass(frozen=True)
class AudioRate:
    factor: float  # times real time, on average
    burst_s: float  # seconds of audio the stream may run ahead first

    def header(self) -> str:
        return f"factor={self.factor:g};burst={self.burst_s:g}"

    @classmethod
    def parse(cls, value: str | None) -> AudioRate | None:
        """The header's value, or None when it is absent or unreadable (then: no pacing)."""
        if not value:
            return None
        fields: dict[str, float] = {}
        for part in value.split(";"):
            name, _, number = part.partition("=")
            try:
                fields[name.strip().lower()] = float(number)
            except ValueError:
                return None
        factor, burst = fields.get("factor"), fields.get("burst")
        if factor is None or burst is None or factor <= 0 or burst < 0:
            return None
        return cls(factor, burst)

    def wait_s(self, sent_s: float, next_s: float, elapsed_s: float) -> float:
        """Seconds to wait before sending `next_s` more audio, `sent_s` having gone out in
        the `elapsed_s` since the connection opened."""
        allowed = MARGIN * (self.burst_s + self.factor * elapsed_s)
        excess = sent_s + next_s - allowed
        return max(0.0, excess / (MARGIN * self.factor))
