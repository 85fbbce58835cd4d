"""Shared fixtures. Qt runs offscreen in this process (the platform is fixed per process)."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest

# The shared format readers assert too: have their failures show values, as in a test module.
pytest.register_assert_rewrite("tests.formats")

T = TypeVar("T")
# The bundle suite needs `make bundle` first; `make bundle-test` runs it on its own.
collect_ignore = [] if os.environ.get("CAPTIONIST_BUNDLE_TESTS") else ["bundle"]
ROOT = Path(__file__).resolve().parents[1]
# Real speech the tests decode, kept in the repository with its sources and licences.
SPEECH_DIR = ROOT / "tests" / "speech"
# Scale every timeout on slow machines: CAPTIONIST_TIMEOUT_FACTOR=3
TIMEOUT_FACTOR = float(os.environ.get("CAPTIONIST_TIMEOUT_FACTOR", "1"))


def run(coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
    """Run a coroutine on a fresh event loop with a hard timeout."""

    async def guarded() -> T:
        return await asyncio.wait_for(coro, timeout * TIMEOUT_FACTOR)

    return asyncio.run(guarded())


@pytest.fixture(autouse=True, scope="session")
def _collect_garbage_on_the_main_thread() -> Iterator[None]:
    """As the app does (app/ui/main_thread_gc.py): the automatic collector would free Qt
    objects left by earlier tests (a closed qasync loop) in whatever worker thread allocates,
    and the next Qt timer event would crash the process. Here it runs between tests."""
    enabled = gc.isenabled()
    gc.disable()
    yield
    if enabled:
        gc.enable()


@pytest.fixture(autouse=True)
def _collect_when_due() -> Iterator[None]:
    yield
    from app.ui.main_thread_gc import collect_if_due

    collect_if_due()


@pytest.fixture(scope="session")
def speech_dir() -> Path:
    return SPEECH_DIR


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """The benchmarks' larger eval set, outside the repository: its tests run where it is."""
    path = os.environ.get("CAPTIONIST_EVAL")
    if not path:
        pytest.skip("the eval set is not in the repository: set CAPTIONIST_EVAL to its folder")
    if not (Path(path) / "manifest.jsonl").is_file():
        pytest.fail(f"CAPTIONIST_EVAL={path} has no manifest.jsonl")
    return Path(path)


@pytest.fixture(scope="session")
def whisper_engine():  # type: ignore[no-untyped-def]
    """The real tiny.en engine, loaded once per test process."""
    from app.server.engines.whisper import WhisperEngine

    engine = WhisperEngine.load("tiny.en")
    engine.warm_up()
    yield engine
    asyncio.run(engine.aclose())
