"""Test doubles for the audio port: live sources that behave as devices can."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from app.audio.base import Block, BlockQueue, SourceInfo
from app.protocol.pcm import FloatArray
from tests.waiting import until

if TYPE_CHECKING:
    from app.audio.base import Dropout


# -- a live source whose capture queue overflows ------------------------------------------
class StallingQueueSource:
    """A live source through a real BlockQueue whose consumer stalls once: after `stall_at`
    blocks it stops taking until `stalled_blocks` more were captured, so a queue of
    `max_blocks` drops the oldest of them, as a busy event loop does to a microphone.
    Otherwise the feeder captures a block only once the consumer took the one before.
    With `chunk_s` the source hands out blocks of that length, cut from what it took from the
    queue, as Both does when it pairs two queues: a dropout then starts inside a block."""

    def __init__(
        self,
        audio: FloatArray,
        *,
        stall_at: int,
        stalled_blocks: int,
        max_blocks: int = 4,
        block_s: float = 0.1,
        chunk_s: float | None = None,
        rate: int = 16000,
    ) -> None:
        step = round(block_s * rate)
        self.chunk_frames = round(chunk_s * rate) if chunk_s else None
        self.info = SourceInfo("stalling capture", rate, 1, ("You",))
        self.captured = [audio[i : i + step].reshape(-1, 1) for i in range(0, len(audio), step)]
        self.stall_at, self.stalled_blocks, self.max_blocks = stall_at, stalled_blocks, max_blocks
        self.queue: BlockQueue | None = None
        self.level = 0.0
        self.failure: str | None = None
        self.echo_cancelling = ""
        self._captured_ids = {id(block) for block in self.captured}
        self._taken = 0  # captured blocks the consumer took (silence put in for a drop is not)
        self._took = asyncio.Event()
        self._resume = asyncio.Event()
        self._feeder: asyncio.Task[None] | None = None

    @property
    def dropouts(self) -> Sequence[Dropout]:
        return self.queue.dropouts if self.queue else ()

    async def start(self) -> None:
        self.queue = BlockQueue(asyncio.get_running_loop(), max_blocks=self.max_blocks)
        self._feeder = asyncio.create_task(self._feed(self.queue))

    async def _feed(self, queue: BlockQueue) -> None:
        stall_end = self.stall_at + self.stalled_blocks
        drops = self.stalled_blocks - self.max_blocks
        for index, block in enumerate(self.captured):
            queue.put_threadsafe(block)
            if index + 1 == stall_end:
                await until(lambda: queue.dropped_blocks >= drops, 5, "the full queue to drop")
                self._resume.set()
            if self.stall_at <= index < stall_end - 1:
                continue  # the consumer is stalled: capture goes on
            while self._taken < index + 1 - queue.dropped_blocks:
                self._took.clear()
                await self._took.wait()
        queue.end_threadsafe()

    async def blocks(self) -> AsyncIterator[Block]:
        if self.chunk_frames is None:
            async for block in self._taken_blocks():
                yield block
            return
        held = np.zeros((0, 1), dtype=np.float32)
        async for block in self._taken_blocks():
            held = np.concatenate([held, block])
            while len(held) >= self.chunk_frames:
                yield held[: self.chunk_frames]
                held = held[self.chunk_frames :]
        if len(held):
            yield held

    async def _taken_blocks(self) -> AsyncIterator[Block]:
        assert self.queue is not None, "start() first"
        pulled = aiter(self.queue)
        while True:
            if self._taken == self.stall_at and not self._resume.is_set():
                await self._resume.wait()
            try:
                block = await anext(pulled)
            except StopAsyncIteration:
                return
            if id(block) in self._captured_ids:
                self._taken += 1
                self._took.set()
            yield block

    async def stop(self) -> None:
        if self._feeder is not None:
            self._feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._feeder


class StereoSource:
    """Two channels of prepared audio ("You", "Others" as in Both mode), handed out in 0.1 s
    blocks, `pause_s` apart."""

    dropouts: tuple[Dropout, ...] = ()

    def __init__(
        self,
        audio: FloatArray,
        *,
        labels: tuple[str, str] = ("You", "Others"),
        rate: int = 16000,
        pause_s: float = 0.0,
    ) -> None:
        self.audio = audio
        self.pause_s = pause_s  # between blocks: > 0 paces the stream as a live capture
        self.info = SourceInfo("both", rate, 2, labels)
        self.level = 0.0
        self.failure: str | None = None
        self.echo_cancelling = ""

    async def start(self) -> None:
        return None

    async def blocks(self) -> AsyncIterator[Block]:
        step = round(0.1 * self.info.sample_rate)
        for at in range(0, len(self.audio), step):
            await asyncio.sleep(self.pause_s)
            yield self.audio[at : at + step]

    async def stop(self) -> None:
        return None
