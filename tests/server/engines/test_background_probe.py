"""Auto's CPU probe after the first captions (app/server/engines/background_probe.py): it
waits for no session, gives way to one, keeps only undisturbed figures, runs at the lowest
priority, and flags the live engine for a reload when the better model keeps up."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable

import pytest

from app.server.engines.background_probe import BackgroundProbe, ProbeInterrupted
from app.server.engines.probe import ProbeResult

FAST = {"idle_s": 0.5, "retry_s": 0.2}


class Live:
    def __init__(self, sessions_open: int = 0) -> None:
        self.sessions_open = sessions_open
        self.reload_due = False


def figure(seconds_per_speech_s: float, *, disturbed: bool = False) -> ProbeResult:
    wall = seconds_per_speech_s * 10
    return ProbeResult(
        seconds_per_speech_s,
        10.0,
        wall,
        False,
        cpu_s=wall * (0.2 if disturbed else 1.0),
        speech_s=10.0,
    )


def test_it_waits_while_a_session_is_open_and_runs_once_none_is() -> None:
    live = Live(sessions_open=1)
    runs: list[float] = []
    kept: list[ProbeResult] = []

    def run(interrupted: Callable[[], bool]) -> ProbeResult:
        runs.append(1)
        return figure(0.4)

    probe = BackgroundProbe(live, run, lambda r: kept.append(r) or True, **FAST)
    probe.start()
    assert not probe.wait(1.5) and not runs  # a session is open: captions have the cores
    live.sessions_open = 0
    assert probe.wait(5)
    assert len(runs) == 1 and kept == [figure(0.4)] and probe.result == figure(0.4)
    assert live.reload_due  # base keeps up: the next Start loads it


def test_a_session_opening_mid_run_interrupts_it_and_it_runs_again_when_idle() -> None:
    live = Live()
    attempts: list[int] = []

    def run(interrupted: Callable[[], bool]) -> ProbeResult:
        attempts.append(1)
        if len(attempts) == 1:
            live.sessions_open = 1  # a Start while base was being measured
            assert interrupted()
            threading.Timer(1.0, lambda: setattr(live, "sessions_open", 0)).start()
            raise ProbeInterrupted
        assert not interrupted()
        return figure(0.7)

    probe = BackgroundProbe(live, run, lambda r: False, **FAST)
    probe.start()
    assert probe.wait(10)
    assert len(attempts) == 2 and probe.interruptions == 1
    assert probe.result == figure(0.7) and not live.reload_due  # too slow: tiny.en stays


def test_a_disturbed_figure_is_not_kept_and_the_probe_runs_again() -> None:
    live = Live()
    results = [figure(0.9, disturbed=True), figure(0.45)]
    kept: list[ProbeResult] = []
    probe = BackgroundProbe(
        live, lambda interrupted: results.pop(0), lambda r: kept.append(r) or True, **FAST
    )
    probe.start()
    assert probe.wait(10)
    assert kept == [figure(0.45)] and live.reload_due


def test_cancel_stops_it_before_any_run() -> None:
    live = Live(sessions_open=1)
    runs: list[int] = []
    probe = BackgroundProbe(live, lambda i: runs.append(1) or figure(0.4), lambda r: True, **FAST)
    probe.start()
    probe.cancel()
    assert probe.wait(3) and not runs and probe.result is None


def test_a_failing_run_ends_the_probe_without_a_figure(caplog: pytest.LogCaptureFixture) -> None:
    def run(interrupted: Callable[[], bool]) -> ProbeResult:
        raise RuntimeError("model file corrupt")

    live = Live()
    probe = BackgroundProbe(live, run, lambda r: True, **FAST)
    probe.start()
    assert probe.wait(5) and probe.result is None and not live.reload_due
    assert "background CPU probe failed" in caplog.text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_it_runs_at_the_lowest_priority_and_so_do_the_threads_it_starts() -> None:
    seen: list[int] = []

    def run(interrupted: Callable[[], bool]) -> ProbeResult:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        child = threading.Thread(
            target=lambda: seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        )
        child.start()
        child.join()
        return figure(0.4)

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    probe = BackgroundProbe(Live(), run, lambda r: True, **FAST)
    probe.start()
    assert probe.wait(5)
    assert seen == [19, 19]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before  # not the caller
