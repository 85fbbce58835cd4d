"""Qt objects held by reference cycles are freed on the Qt thread, never in a worker thread
(where the next timer event would crash the process: the unit suite's segfault in CI)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.ui.main_thread_gc import MainThreadCollector, collect_if_due

SCRIPT = Path(__file__).with_name("qt_object_freed_in_a_worker.py")
ROOT = SCRIPT.parents[2]


def run_script(*flags: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *flags], capture_output=True, text=True, env=env,
        timeout=60,
    )  # fmt: skip


def test_a_qt_object_freed_by_a_worker_threads_collection_crashes_the_process() -> None:
    """The hazard itself, so that the test below guards something real."""
    crashed = run_script()
    assert crashed.returncode != 0
    assert "Timers cannot be stopped from another thread" in crashed.stderr


def test_with_the_collector_the_same_garbage_is_freed_on_the_qt_thread() -> None:
    survived = run_script("--collector")
    assert survived.returncode == 0, survived.stderr
    assert "alive; loop freed: True" in survived.stdout
    assert "another thread" not in survived.stderr


@pytest.fixture
def automatic_gc_restored() -> object:
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield None
    gc.set_threshold(*thresholds)
    (gc.enable if enabled else gc.disable)()


def test_a_collection_runs_only_once_the_thresholds_say_it_is_due(
    automatic_gc_restored: object,
) -> None:
    gc.disable()  # as under the collector: only collect_if_due collects
    gc.collect()
    gc.set_threshold(10_000_000, 10, 10)
    assert collect_if_due() is None
    gc.set_threshold(1, 1_000_000, 10)
    cycles = [[] for _ in range(10)]
    for cycle in cycles:
        cycle.append(cycle)
    assert collect_if_due() == 0  # the young generation only, as the automatic collector would


def test_stop_gives_the_automatic_collector_back(
    qapp: QApplication, automatic_gc_restored: object
) -> None:
    gc.enable()
    collector = MainThreadCollector().start()
    assert not gc.isenabled()
    collector.stop()
    assert gc.isenabled()
