"""BlockQueue: a full queue drops the oldest audio, and says where it was."""

from __future__ import annotations

import asyncio

import numpy as np

from app.audio.base import Block, BlockQueue, Dropout, merged_dropouts
from tests.conftest import run


def test_dropped_blocks_come_out_as_silence_in_their_place_with_a_dropout() -> None:
    blocks = [np.full((160, 1), k + 1, dtype=np.float32) for k in range(6)]

    async def scenario() -> tuple[BlockQueue, list[Block]]:
        queue = BlockQueue(asyncio.get_running_loop(), max_blocks=2)
        for block in blocks[:4]:  # the consumer is not taking: the two oldest go
            queue.put_threadsafe(block)
        pulled = aiter(queue)
        taken = [await anext(pulled) for _ in range(3)]
        for block in blocks[4:]:
            queue.put_threadsafe(block)
        queue.end_threadsafe()  # the end takes a place too: block 5 goes
        queue.put_threadsafe(blocks[0])  # a late callback after the end is ignored
        taken += [block async for block in pulled]
        return queue, taken

    queue, taken = run(scenario())
    assert queue.dropped_blocks == 3
    assert queue.dropouts == [Dropout(0, 320), Dropout(640, 160)]
    assert [(len(b), float(b[0, 0])) for b in taken] == [
        (320, 0.0), (160, 3.0), (160, 4.0), (160, 0.0), (160, 6.0)
    ]  # fmt: skip


def test_dropouts_of_two_devices_that_overlap_or_touch_are_one() -> None:
    both = [Dropout(100, 50), Dropout(0, 10), Dropout(120, 60), Dropout(180, 5), Dropout(300, 1)]
    assert merged_dropouts(both) == [Dropout(0, 10), Dropout(100, 85), Dropout(300, 1)]
