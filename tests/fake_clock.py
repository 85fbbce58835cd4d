"""A clock a test moves by hand, read from any thread (a source's watcher reads it)."""

from __future__ import annotations

import threading


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def set(self, now: float) -> None:
        with self._lock:
            self.now = now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
