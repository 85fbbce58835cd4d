"""Python's cyclic garbage collector, run on the Qt thread only.

A Qt object must be destroyed in the thread it lives in: destroyed anywhere else, its timers
stay registered with its own thread, and the next timer event lands on freed memory (a
segfault in `QTimerInfoList::activateTimers`). Python's automatic collector runs in whichever
thread happens to allocate past its threshold: a decode worker, the journal writer, a
`to_thread` job. A Qt object held only by a reference cycle (a closed qasync loop and its
callback timer, a widget and a lambda connected to it) can therefore be freed there. So the
automatic collector is switched off and a Qt timer runs the same collections on the Qt thread,
as soon as the thresholds the automatic one uses say they are due.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

# Often enough that cyclic garbage never piles up (the automatic collector would run
# gen0 many times a second under load, but most garbage is freed by reference counting).
INTERVAL_MS = 250


def collect_if_due() -> int | None:
    """Run the collection the automatic collector would have run by now; the generation run,
    or None when none was due. Call it on the Qt thread."""
    thresholds = gc.get_threshold()
    counts = gc.get_count()
    generation = None
    for level in range(3):
        if thresholds[level] and counts[level] > thresholds[level]:
            generation = level
        else:
            break
    if generation is not None:
        gc.collect(generation)
    return generation


class MainThreadCollector(QObject):
    """While it runs, cyclic garbage is collected on the thread that created it, never on
    another. `stop` gives the automatic collector back."""

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(collect_if_due)
        self._was_enabled = gc.isenabled()

    def start(self) -> MainThreadCollector:
        gc.disable()
        self._timer.start()
        return self

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()
