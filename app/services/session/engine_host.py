"""The speech engine and the embedded server in front of it, swapped together when Settings
ask for another engine or model (at the next Start, without restarting the app).

No Qt here: the controller shows the states. The loader and the server factory are passed in
(the composition root gives `load_engine` and `embedded_server`), so tests can give doubles.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)


class LoadedEngine(Protocol):
    """What the host needs of an engine (the server's Engine port has it)."""

    name: str
    model_name: str
    selection_note: str  # why this model runs, when the engine chose it (Auto); else ""

    async def aclose(self) -> None: ...


E = TypeVar("E", bound=LoadedEngine)


@dataclass(frozen=True)
class EngineChoice:
    """What Settings ask for: `engine` (whisper | deepgram) and `model` (a name, auto, a folder)."""

    engine: str
    model: str


class EngineHost(Generic[E]):
    def __init__(
        self,
        load: Callable[[str, str], E],  # (engine, model) -> the loaded engine; blocks
        serve: Callable[[E], AbstractAsyncContextManager[tuple[str, str]]],  # -> (url, token)
    ) -> None:
        self._load = load
        self._serve = serve
        self.engine: E | None = None
        self.choice: EngineChoice | None = None
        self.url: str | None = None
        self.token: str | None = None
        self._server: contextlib.AsyncExitStack | None = None
        self._stale = False
        self._closed = False
        self._lock = asyncio.Lock()

    @property
    def label(self) -> str:
        """What the window shows: "whisper · tiny.en"."""
        engine = self.engine
        return f"{engine.name} · {engine.model_name}" if engine is not None else ""

    @property
    def note(self) -> str:
        """Why this model was chosen (an engine that picks one itself, as Auto does, says why)."""
        return self.engine.selection_note if self.engine is not None else ""

    def needs_switch(self, choice: EngineChoice) -> bool:
        # An engine may learn of a better choice while it runs (Auto's probe, measured after
        # the first captions): not part of the LoadedEngine port, as most never do.
        reload_due = bool(getattr(self.engine, "reload_due", False))
        return self._stale or reload_due or choice != self.choice

    def mark_stale(self) -> None:
        """Load afresh at the next switch even for the same choice (e.g. a new API key)."""
        self._stale = True

    async def switch(self, choice: EngineChoice) -> None:
        """Load `choice` in a worker thread and serve it on a new embedded server, then close
        the old pair. If loading or serving fails, the error propagates and the old pair stays.
        """
        async with self._lock:
            engine = await asyncio.to_thread(self._load, choice.engine, choice.model)
            server = contextlib.AsyncExitStack()
            try:
                url, token = await server.enter_async_context(self._serve(engine))
            except BaseException:
                await engine.aclose()
                raise
            if self._closed:  # the app quit while this one loaded
                await self._close(server, engine)
                return
            old_server, old_engine = self._server, self.engine
            self.engine, self.choice, self.url, self.token = engine, choice, url, token
            self._server, self._stale = server, False
            log.info("speech engine ready: %s", self.label)
            await self._close(old_server, old_engine)

    async def aclose(self) -> None:
        self._closed = True
        server, engine = self._server, self.engine
        self._server = self.engine = self.choice = None
        self.url = self.token = None
        await self._close(server, engine)

    @staticmethod
    async def _close(server: contextlib.AsyncExitStack | None, engine: E | None) -> None:
        try:
            if server is not None:
                await server.aclose()
        finally:
            if engine is not None:
                await engine.aclose()
