"""A recording replayed in real time, as if it were live (`captionist gui --file`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np

from app.audio.base import Block, Dropout, SourceInfo
from app.audio.file_source import DecodedAudio, read_audio

BLOCK_S = 0.1


class FileReplaySource:
    dropouts: tuple[Dropout, ...] = ()  # it waits for its consumer: it never drops
    failure: str | None = None  # a file that cannot be read fails its start instead
    echo_cancelling = ""

    def __init__(
        self,
        path: Path,
        *,
        speed: float = 1.0,
        audio: DecodedAudio | None = None,
        label: str = "Others",
    ) -> None:
        self.path = path
        self.speed = speed
        self._audio = audio
        self._stopped = asyncio.Event()
        rate = audio.sample_rate if audio else 16000
        self.info = SourceInfo(path.name, rate, 1, (label,))
        self.level = 0.0
        self.position_s = 0.0

    async def start(self) -> None:
        if self._audio is None:
            self._audio = await asyncio.to_thread(read_audio, self.path)
        self.info = SourceInfo(self.path.name, self._audio.sample_rate, 1, self.info.channel_labels)

    @property
    def duration_s(self) -> float:
        return self._audio.duration if self._audio else 0.0

    async def blocks(self) -> AsyncIterator[Block]:
        assert self._audio is not None, "start() first"
        samples, rate = self._audio.samples, self._audio.sample_rate
        step = int(rate * BLOCK_S)
        t0 = time.monotonic()
        for offset in range(0, len(samples), step):
            if self._stopped.is_set():
                return
            block = samples[offset : offset + step].reshape(-1, 1)
            # As a live source: the block [x, x + 0.1 s) exists only at x + 0.1 s.
            due = t0 + (offset + len(block)) / rate / self.speed
            delay = due - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._stopped.wait(), delay)
                    return
                except TimeoutError:
                    pass
            self.level = float(np.sqrt(np.mean(np.square(block)))) if block.size else 0.0
            self.position_s = (offset + len(block)) / rate
            yield block

    async def stop(self) -> None:
        self._stopped.set()
