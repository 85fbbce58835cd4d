"""Fixtures of the session services' tests: a platform without journal locks (Windows), and
the process umask."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from app.services import journal_lock


@pytest.fixture
def no_locks(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on Windows: no flock, so `LOCKING` is False (in journal_lock and wherever it was
    imported) and no lock is ever taken."""
    real_try_lock = journal_lock.try_lock
    for name, module in list(sys.modules.items()):
        if not name.startswith("app."):
            continue
        if getattr(module, "LOCKING", None) is True:
            monkeypatch.setattr(module, "LOCKING", False)
        if getattr(module, "try_lock", None) is real_try_lock:
            monkeypatch.setattr(module, "try_lock", lambda fd: False)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    mask: int = request.param
    before = os.umask(mask)
    try:
        yield mask
    finally:
        os.umask(before)
