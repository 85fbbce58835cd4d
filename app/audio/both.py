"""Both mode: microphone and system audio as two channels of one stream ("You", "Others").

Each device runs on its own clock; blocks are paired sample by sample. If one side stops
delivering (a stalled or unplugged device), the other goes on with silence in its place
after `max_skew_s`, so captions for the live side never stall.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import numpy as np

from app.audio.base import OWN_VOICE, AudioSource, Block, Dropout, SourceInfo, merged_dropouts
from app.audio.echo_cancel import GUARD_ONLY


class BothSource:
    def __init__(
        self, microphone: AudioSource, system: AudioSource, *, max_skew_s: float = 0.4
    ) -> None:
        self.sides = (microphone, system)
        rate = microphone.info.sample_rate
        self.info = SourceInfo("Microphone + system audio", rate, 2, (OWN_VOICE, "Others"))
        self.max_skew = int(max_skew_s * rate)
        self._buffers: list[list[Block]] = [[], []]
        self._counts = [0, 0]
        self._ended = [False, False]
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def level(self) -> float:
        return max(side.level for side in self.sides)

    @property
    def dropouts(self) -> Sequence[Dropout]:
        # Samples are paired one to one, so a side's frame is the stream's frame (unless a
        # side lagged past max_skew and silence was put in for it: then near enough).
        return merged_dropouts([*self.sides[0].dropouts, *self.sides[1].dropouts])

    @property
    def echo_cancelling(self) -> str:
        """Which echo cancelling the microphone has: the sound server's, or the guard only."""
        return self.sides[0].echo_cancelling or GUARD_ONLY

    @property
    def failure(self) -> str | None:
        return next((side.failure for side in self.sides if side.failure), None)

    async def start(self) -> None:
        for side in self.sides:
            await side.start()
        self._tasks = [asyncio.create_task(self._pump(i)) for i in range(2)]

    async def _pump(self, index: int) -> None:
        async for block in self.sides[index].blocks():
            mono = block[:, 0] if block.ndim == 2 else block
            self._buffers[index].append(mono)
            self._counts[index] += len(mono)
            self._wake.set()
        self._ended[index] = True
        self._wake.set()

    def _take(self, index: int, count: int) -> Block:
        have = (
            np.concatenate(self._buffers[index])
            if self._buffers[index]
            else np.zeros(0, dtype=np.float32)
        )
        taken, rest = have[:count], have[count:]
        self._buffers[index] = [rest] if len(rest) else []
        self._counts[index] = len(rest)
        if len(taken) < count:
            taken = np.concatenate([taken, np.zeros(count - len(taken), dtype=np.float32)])
        return taken.astype(np.float32, copy=False)

    async def blocks(self) -> AsyncIterator[Block]:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if all(self._ended) and not any(self._counts):
                return
            ready = min(self._counts)
            lead = max(self._counts)
            if ready == 0 and lead < self.max_skew and not any(self._ended):
                continue
            count = lead if (ready == 0 or any(self._ended)) else ready
            if count:
                yield np.stack([self._take(0, count), self._take(1, count)], axis=1)

    async def stop(self) -> None:
        for side in self.sides:
            await side.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._ended = [True, True]
        self._wake.set()
