"""Waiting on a condition with a deadline, never a fixed sleep before an assert."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

from tests.conftest import TIMEOUT_FACTOR

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str, step: float = 0.05) -> T:
    """Poll `predicate` until it returns something truthy, and return that; fail naming
    `what` after `timeout` seconds (scaled by CAPTIONIST_TIMEOUT_FACTOR)."""
    deadline = time.monotonic() + timeout * TIMEOUT_FACTOR
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


async def until(predicate: Callable[[], T], within: float, what: str, step: float = 0.02) -> T:
    """`wait_until` for a coroutine: the event loop keeps running while it polls."""
    deadline = time.monotonic() + within * TIMEOUT_FACTOR
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(step)
