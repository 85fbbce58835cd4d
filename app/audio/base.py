"""The audio port: every capture backend (microphone, system audio, file) looks like this.

Blocks are float32 arrays of shape (frames, channels) at `sample_rate`. Backends deliver from
their own threads into a bounded queue on the event loop (`BlockQueue`); the loop side never
blocks and a full queue drops the oldest block and counts it, so a stalled consumer costs
audio, never memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Block = npt.NDArray[np.float32]  # (frames, channels)


@dataclass(frozen=True)
class SourceInfo:
    label: str  # what the user sees: "Microphone", "System audio", a file name
    sample_rate: int
    channels: int
    channel_labels: tuple[str, ...]  # transcript labels per channel, e.g. ("You", "Others")


class AudioSource(Protocol):
    info: SourceInfo

    async def start(self) -> None:
        """Open the device; raises AudioDeviceError with a clear reason."""

    def blocks(self) -> AsyncIterator[Block]:
        """Captured blocks until the source ends (files) or stops."""

    async def stop(self) -> None:
        """Close the device. Idempotent."""


class BlockQueue:
    """Thread-to-loop hand-off with a bound (drops oldest) and a level meter."""

    _END = None

    def __init__(self, loop: asyncio.AbstractEventLoop, max_blocks: int = 200) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Block | None] = asyncio.Queue(max_blocks)
        self.dropped_blocks = 0
        self.level = 0.0  # RMS of the latest block, 0..1

    def put_threadsafe(self, block: Block) -> None:
        """Call from any thread (e.g. the PortAudio callback): only hands the block over."""
        self._loop.call_soon_threadsafe(self._put, block)

    def _put(self, block: Block | None) -> None:
        if block is not None:
            self.level = float(np.sqrt(np.mean(np.square(block)))) if block.size else 0.0
        while True:
            try:
                self._queue.put_nowait(block)
                return
            except asyncio.QueueFull:
                self._queue.get_nowait()
                self.dropped_blocks += 1

    def end(self) -> None:
        self._put(self._END)

    def end_threadsafe(self) -> None:
        self._loop.call_soon_threadsafe(self._put, self._END)

    async def __aiter__(self) -> AsyncIterator[Block]:
        while True:
            block = await self._queue.get()
            if block is None:
                return
            yield block
