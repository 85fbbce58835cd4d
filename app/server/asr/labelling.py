"""Speaker labels for finals, worked out beside the decode so they cost no caption latency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from app.protocol.pcm import FloatArray

# Who speaks in this audio (a final's span, starting at the given channel time).
Label = Callable[[FloatArray, float], Coroutine[Any, Any, int | None]]


class PendingLabel:
    """The label of a span, started before the decode of the same span, awaited after it."""

    def __init__(self, task: asyncio.Task[int | None] | None = None) -> None:
        self._task = task

    @classmethod
    def start(cls, label: Label | None, audio: FloatArray, start: float) -> PendingLabel:
        if label is None or len(audio) == 0:
            return cls()
        return cls(asyncio.get_running_loop().create_task(label(audio, start)))

    async def speaker(self) -> int | None:
        return await self._task if self._task is not None else None

    def cancel(self) -> None:
        """Nothing settled after all: the label is not needed."""
        if self._task is not None:
            self._task.cancel()  # a cancelled task is never reported, awaited or not
