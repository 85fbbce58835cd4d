"""Run as a script by test_main_thread_gc.py: a closed qasync loop with a timer still
registered becomes cyclic garbage, then a worker thread allocates until the collector runs.
Freed there, the loop's timer object leaves a dangling Qt timer and the next event crashes the
process; with `--collector` the collection waits for the Qt thread and the process lives."""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time
import weakref

os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication

from app.ui.main_thread_gc import MainThreadCollector


def abandon_a_closed_loop(app: QApplication) -> weakref.ref[qasync.QEventLoop]:
    loop = qasync.QEventLoop(app)
    loop.close()
    # A thread's call_soon_threadsafe landing after close: qasync still starts a Qt timer.
    loop.call_later(0.05, print, "late callback")
    asyncio.set_event_loop(None)
    return weakref.ref(loop)


def main() -> int:
    app = QApplication(sys.argv[:1])
    if "--collector" in sys.argv:
        MainThreadCollector(parent=app).start()
    automatic = gc.isenabled()  # off once the collector runs
    gc.collect()
    gc.disable()  # so that the garbage below is still there when the worker starts
    abandoned = abandon_a_closed_loop(app)

    def allocate() -> None:  # cycles, so the collector has reason to run here
        gc.set_threshold(1, 1, 1)  # a collection at nearly every allocation, not by luck
        if automatic:
            gc.enable()
        for _ in range(10_000):
            cycle: list[object] = []
            cycle.append(cycle)

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    # Alive, and the loop was collected all the same (on this thread): nothing leaks.
    print("alive; loop freed:", abandoned() is None, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
