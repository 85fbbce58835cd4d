"""Auto's CPU probe after the first captions, never before them.

A first Start used to wait about 20 s while base was measured. Now Auto captions at once with
tiny.en (sure to keep up) and this probe measures base on its own thread at the lowest CPU
priority, only while no session is open on the live engine: the measurement needs the cores to
itself, and captions come first. A session that opens mid-run interrupts it (it is run again
once idle); a run that other programs disturbed is not kept. The figure is then cached, as the
probe before captions cached it, and when base keeps up the live engine is marked `reload_due`:
the app loads Auto afresh at the next Start and gets base.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Protocol

from app.server.engines.probe import ProbeResult

log = logging.getLogger(__name__)
IDLE_S = 3.0  # no session open for this long before a run starts
RETRY_S = 60.0  # after a run other programs disturbed
POLL_S = 0.5
LOWEST_PRIORITY = 19  # Unix nice value


class ProbeInterrupted(Exception):
    """A session opened on the live engine: the probe gives the cores back."""


class LiveEngine(Protocol):
    sessions_open: int
    reload_due: bool


# (interrupted) -> the result; raises ProbeInterrupted when `interrupted()` turns true.
Run = Callable[[Callable[[], bool]], ProbeResult]
# The figure is good (not disturbed): keep it; returns whether the better model keeps up.
Record = Callable[[ProbeResult], bool]


class BackgroundProbe:
    def __init__(
        self,
        live: LiveEngine,
        run: Run,
        record: Record,
        *,
        idle_s: float = IDLE_S,
        retry_s: float = RETRY_S,
    ) -> None:
        self._live = live
        self._run = run
        self._record = record
        self._idle_s = idle_s
        self._retry_s = retry_s
        self._stop = threading.Event()
        self.finished = threading.Event()
        self.result: ProbeResult | None = None  # the figure kept, once there is one
        self.interruptions = 0
        self._thread = threading.Thread(target=self._main, name="cpu-probe-idle", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Stop at the next decode (the engine is closing)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.finished.wait(timeout)

    def _interrupted(self) -> bool:
        return self._stop.is_set() or self._live.sessions_open > 0

    def _main(self) -> None:
        lower_this_threads_priority()
        try:
            while self._wait_until_idle():
                try:
                    result = self._run(self._interrupted)
                except ProbeInterrupted:
                    self.interruptions += 1
                    log.info("CPU probe interrupted by a session: it runs again when idle")
                    continue
                if result.disturbed:
                    log.info("CPU probe disturbed by other programs: it runs again later")
                    self._stop.wait(self._retry_s)
                    continue
                self.result = result
                if self._record(result):
                    self._live.reload_due = True
                return
        except Exception:  # a probe that fails must not disturb captioning
            log.exception("the background CPU probe failed")
        finally:
            self.finished.set()

    def _wait_until_idle(self) -> bool:
        """True once no session has been open for `idle_s`; False when cancelled."""
        idle = 0.0
        while idle < self._idle_s:
            idle = idle + POLL_S if self._live.sessions_open == 0 else 0.0
            if self._stop.wait(POLL_S):
                return False
        return True


def lower_this_threads_priority() -> None:
    """The calling thread, and the threads it starts (Linux gives each thread its own nice
    value and new threads inherit it), yield the CPU to everything else. Elsewhere the
    probe runs at normal priority, still only while nothing is captioned."""
    if not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)
    except OSError as exc:
        log.info("could not lower the CPU probe's priority: %s", exc)
