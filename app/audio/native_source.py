"""What the OS-native system-audio sources (WASAPI loopback, ScreenCaptureKit) share.

The OS calls back on an audio thread of its own with bytes in the device's format; they become
the app's blocks (app/audio/pcm_blocks.py) and reach the loop through a BlockQueue, as
DeviceSource's do. A watcher thread of the source's own does two things PortAudio's monitor
sources never needed: it puts silence in for the time a quiet loopback device delivers nothing
(the stream's clock must keep up with the meeting's), and every `watch_every_s` it asks the
subclass whether the capture has to be reopened (the default output changed, the device went
away). The time the capture is closed is filled too, but as a gap: a Dropout, as for audio a
full queue dropped, so the transcript can mark it. Reopening that keeps failing for
`give_up_after_s` ends the blocks with `failure` saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence

import numpy as np

from app.audio.base import Block, BlockQueue, Dropout, SourceInfo, merged_dropouts
from app.audio.devices import CaptureDevice
from app.audio.pcm_blocks import SilencePacer
from app.errors import AudioDeviceError

log = logging.getLogger(__name__)


class NativeCaptureSource:
    tick_s = 0.05  # how often the watcher fills silence
    watch_every_s = 2.0  # how often it asks whether to reopen
    give_up_after_s = 30.0

    def __init__(
        self,
        device: CaptureDevice,
        *,
        sample_rate: int = 16000,
        label: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device = device
        self.info = SourceInfo(device.label, sample_rate, 1, (label or "Others",))
        self.failure: str | None = None
        self.echo_cancelling = ""  # system audio: nothing to cancel
        self.reopened = 0  # how often the capture followed a change
        self.checked_at: float | None = None  # when the watcher last asked (its clock)
        self._clock = clock
        self._queue: BlockQueue | None = None
        self._pacer = SilencePacer(sample_rate)
        self._lock = threading.Lock()  # the pacer's count and the queue's order go together
        self._gaps: list[Dropout] = []
        self._capturing = False
        self._closed_since = 0.0
        self._halt = threading.Event()
        self._watcher: threading.Thread | None = None

    # -- what a subclass provides (each called on a worker or the watcher thread) ----------
    def _open(self) -> None:
        """Open the capture; raise AudioDeviceError with a reason the user can act on."""
        raise NotImplementedError

    def _close(self) -> None:
        """Close the capture; may raise (it is called quietly)."""
        raise NotImplementedError

    def _needs_reopen(self) -> str | None:
        """Why the open capture should be reopened now, or None."""
        return None

    # -- the AudioSource port -------------------------------------------------------------
    @property
    def level(self) -> float:
        return self._queue.level if self._queue else 0.0

    @property
    def dropped_blocks(self) -> int:
        return self._queue.dropped_blocks if self._queue else 0

    @property
    def dropouts(self) -> Sequence[Dropout]:
        with self._lock:
            gaps = list(self._gaps)
        return merged_dropouts([*(self._queue.dropouts if self._queue else ()), *gaps])

    async def start(self) -> None:
        self._queue = BlockQueue(asyncio.get_running_loop())
        await asyncio.to_thread(self._open)
        with self._lock:
            self._pacer.start(self._clock())
            self._capturing = True
        self._watcher = threading.Thread(
            target=self._watch_loop, name=f"{type(self).__name__} watcher", daemon=True
        )
        self._watcher.start()

    async def blocks(self) -> AsyncIterator[Block]:
        assert self._queue is not None, "start() first"
        async for block in self._queue:
            yield block

    async def stop(self) -> None:
        self._halt.set()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            await asyncio.to_thread(watcher.join)
        if self._capturing:
            self._capturing = False
            await asyncio.to_thread(self._close_quietly)
        if self._queue is not None:
            self._queue.end()

    # -- the audio thread -----------------------------------------------------------------
    def _deliver(self, block: Block) -> None:
        """Hand a converted block on; called from the OS's audio thread."""
        queue = self._queue
        if queue is None or not len(block):
            return
        with self._lock:
            if not self._capturing or self._halt.is_set():
                return  # opening or closing: this time is accounted for as a gap
            self._pacer.audio(len(block), self._clock())
            queue.put_threadsafe(block)

    # -- the watcher thread ---------------------------------------------------------------
    def _watch_loop(self) -> None:
        last_watch = self._clock()
        while not self._halt.wait(self.tick_s):
            now = self._clock()
            with self._lock:
                self._fill_locked(now)
            if now - last_watch >= self.watch_every_s:
                last_watch = now
                self._watch(now)
                self.checked_at = now

    def _fill_locked(self, now: float, *, closed_until_now: bool = False) -> None:
        """Silence for the time nothing came; a gap (Dropout) while the capture is closed."""
        queue = self._queue
        due = self._pacer.due(now, idle=closed_until_now)
        if queue is None or due <= 0 or self._halt.is_set():
            return
        if not self._capturing:
            self._gaps.append(Dropout(self._pacer.frames, due))
        self._pacer.filled(due)
        queue.put_threadsafe(np.zeros((due, 1), dtype=np.float32))

    def _watch(self, now: float) -> None:
        if self._capturing:
            reason = self._needs_reopen()
            if reason is None:
                return
            log.info("%s: reopening (%s)", self.device.label, reason)
            self._capturing = False
            self._closed_since = now
            self._close_quietly()
        try:
            self._open()
        except AudioDeviceError as exc:
            log.warning("%s: reopening failed: %s", self.device.label, exc.reason)
            if now - self._closed_since >= self.give_up_after_s:
                self._give_up(exc.reason)
            return
        with self._lock:  # the time closed is a gap, before anything the new capture gives
            self._fill_locked(self._clock(), closed_until_now=True)
            self._capturing = True
        self.reopened += 1

    def _give_up(self, reason: str) -> None:
        self.failure = f"{self.device.label} stopped: {reason}"
        self._halt.set()
        if self._queue is not None:
            self._queue.end_threadsafe()

    def _close_quietly(self) -> None:
        with contextlib.suppress(Exception):  # closing a dead device must not raise
            self._close()
