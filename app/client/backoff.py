"""Reconnect delays: exponential backoff with jitter and a cap. Pure (no clock, no I/O).

Jitter spreads the reconnects of many clients after a server restart so they do not all
arrive in the same instant; the cap keeps a long outage from growing the wait unboundedly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 4.0
    jitter: float = 0.5  # a delay is drawn from [base * (1 - jitter), base]
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        base = min(self.cap_s, self.initial_s * self.factor**self.attempt)
        self.attempt += 1
        return base * (1.0 - self.jitter * self.rng.random())

    def reset(self) -> None:
        self.attempt = 0
