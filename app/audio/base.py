"""The audio port: every capture backend (microphone, system audio, file) looks like this.

Blocks are float32 arrays of shape (frames, channels) at `sample_rate`. Backends deliver from
their own threads into a bounded queue on the event loop (`BlockQueue`); the loop side never
blocks and a full queue drops the oldest block, so a stalled consumer costs audio, never
memory. What is dropped is not hidden: silence of the same length takes its place in the
blocks (so later audio keeps its time, and the channels of Both stay aligned) and a `Dropout`
says where, so the transcript can mark the gap.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

Block = npt.NDArray[np.float32]  # (frames, channels)
OWN_VOICE = "You"  # the label of the user's own microphone; "Others" is everyone else


@dataclass(frozen=True)
class SourceInfo:
    label: str  # what the user sees: "Microphone", "System audio", a file name
    sample_rate: int
    channels: int
    channel_labels: tuple[str, ...]  # transcript labels per channel, e.g. ("You", "Others")


@dataclass(frozen=True)
class Dropout:
    """Audio a full queue dropped: silence stands for it in the blocks, from `start`."""

    start: int  # sample frames since the source's first block
    frames: int


def merged_dropouts(dropouts: Iterable[Dropout]) -> list[Dropout]:
    """Overlapping or touching dropouts as one (Both: the two devices drop the same stall)."""
    merged: list[Dropout] = []
    for dropout in sorted(dropouts, key=lambda d: d.start):
        last = merged[-1] if merged else None
        if last is not None and dropout.start <= last.start + last.frames:
            end = max(last.start + last.frames, dropout.start + dropout.frames)
            merged[-1] = Dropout(last.start, end - last.start)
        else:
            merged.append(dropout)
    return merged


class AudioSource(Protocol):
    """What the captioning service reads of a source; every backend declares all of it."""

    info: SourceInfo

    @property
    def level(self) -> float:
        """RMS of the latest block, 0..1, for the level meter (0 before the first block)."""

    @property
    def failure(self) -> str | None:
        """Why the blocks ended before a stop was asked for (a device unplugged); else None."""

    @property
    def echo_cancelling(self) -> str:
        """How the microphone's echo of the others is cancelled (Both mode); "" elsewhere."""

    @property
    def dropouts(self) -> Sequence[Dropout]:
        """What a full queue dropped so far, oldest first (a source that cannot drop: none)."""

    async def start(self) -> None:
        """Open the device; raises AudioDeviceError with a clear reason."""

    def blocks(self) -> AsyncIterator[Block]:
        """Captured blocks until the source ends (files) or stops."""

    async def stop(self) -> None:
        """Close the device. Idempotent."""


class BlockQueue:
    """Thread-to-loop hand-off with a bound (drops oldest, silence in its place, a Dropout
    recorded) and a level meter."""

    _END = None

    def __init__(self, loop: asyncio.AbstractEventLoop, max_blocks: int = 200) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Block | None] = asyncio.Queue(max_blocks)
        self.dropped_blocks = 0
        self.dropouts: list[Dropout] = []
        self.level = 0.0  # RMS of the latest block, 0..1
        self._frames_out = 0  # frames handed to the consumer, silence included
        self._unfilled = 0  # frames dropped since the consumer's last block
        self._unfilled_channels = 1
        self._ended = False

    def put_threadsafe(self, block: Block) -> None:
        """Call from any thread (e.g. the PortAudio callback): only hands the block over."""
        self._loop.call_soon_threadsafe(self._put, block)

    def _put(self, block: Block | None) -> None:
        if self._ended:
            return  # a late callback after the end: the consumer is gone or going
        self._ended = block is None
        if block is not None:
            self.level = float(np.sqrt(np.mean(np.square(block)))) if block.size else 0.0
        while True:
            try:
                self._queue.put_nowait(block)
                return
            except asyncio.QueueFull:
                dropped = self._queue.get_nowait()
                assert dropped is not None  # nothing is put after the end
                self.dropped_blocks += 1
                # Drops take the head, so every one since the consumer's last block sits
                # right after it: one silence, yielded before the next block, stands for all.
                self._unfilled += len(dropped)
                self._unfilled_channels = dropped.shape[1] if dropped.ndim == 2 else 1

    def end(self) -> None:
        self._put(self._END)

    def end_threadsafe(self) -> None:
        self._loop.call_soon_threadsafe(self._put, self._END)

    async def __aiter__(self) -> AsyncIterator[Block]:
        while True:
            block = await self._queue.get()
            if self._unfilled:
                yield self._silence_for_dropped()
            if block is None:
                return
            self._frames_out += len(block)
            yield block

    def _silence_for_dropped(self) -> Block:
        frames, self._unfilled = self._unfilled, 0
        self.dropouts.append(Dropout(self._frames_out, frames))
        self._frames_out += frames
        return np.zeros((frames, self._unfilled_channels), dtype=np.float32)
