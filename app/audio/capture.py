"""Live capture through PortAudio (sounddevice): a microphone or the system-audio monitor.

The PortAudio callback only copies the block and hands it to the loop (BlockQueue); nothing
else happens on the audio thread. A device that disappears ends the block stream and sets
`failure`, so the service can say what happened instead of hanging.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Sequence
from typing import Any

from app.audio.base import OWN_VOICE, Block, BlockQueue, Dropout, SourceInfo
from app.audio.devices import CaptureDevice
from app.errors import AudioDeviceError

_open_lock = threading.Lock()  # PULSE_SOURCE is process-wide: open one stream at a time


class DeviceSource:
    def __init__(
        self, device: CaptureDevice, *, sample_rate: int = 16000, label: str | None = None
    ) -> None:
        self.device = device
        default_label = OWN_VOICE if device.kind == "microphone" else "Others"
        self.info = SourceInfo(device.label, sample_rate, 1, (label or default_label,))
        self.failure: str | None = None
        self.echo_cancelling = ""  # a plain device: none of its own (EchoCancelledMicrophone)
        self._stream: Any = None
        self._queue: BlockQueue | None = None
        self._first_block = asyncio.Event()

    @property
    def level(self) -> float:
        return self._queue.level if self._queue else 0.0

    @property
    def dropped_blocks(self) -> int:
        return self._queue.dropped_blocks if self._queue else 0

    @property
    def dropouts(self) -> Sequence[Dropout]:
        return self._queue.dropouts if self._queue else ()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._queue = BlockQueue(loop)
        await asyncio.to_thread(self._open, loop)

    def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            import sounddevice
        except OSError as exc:
            raise AudioDeviceError(self.device.label, f"no audio library: {exc}") from exc
        queue = self._queue
        assert queue is not None

        def callback(indata: Any, frames: int, time: Any, status: Any) -> None:
            queue.put_threadsafe(indata.copy())
            if not self._first_block.is_set():
                loop.call_soon_threadsafe(self._first_block.set)

        def finished() -> None:
            queue.end_threadsafe()

        with _open_lock:
            previous = os.environ.get("PULSE_SOURCE")
            if self.device.pulse_source:
                os.environ["PULSE_SOURCE"] = self.device.pulse_source
            try:
                device = self.device.portaudio_device
                if self.device.pulse_source:
                    device = "pulse"
                self._stream = sounddevice.InputStream(
                    device=device,
                    samplerate=self.info.sample_rate,
                    channels=1,
                    dtype="float32",
                    blocksize=0,
                    callback=callback,
                    finished_callback=finished,
                )
                self._stream.start()
            except (sounddevice.PortAudioError, ValueError) as exc:
                self._stream = None
                raise AudioDeviceError(self.device.label, f"cannot open: {exc}") from exc
            finally:
                if previous is None:
                    os.environ.pop("PULSE_SOURCE", None)
                else:
                    os.environ["PULSE_SOURCE"] = previous

    async def wait_first_block(self) -> None:
        """PortAudio's first callback can take 0.1-2 s; tests wait for it before playing."""
        await self._first_block.wait()

    async def blocks(self) -> AsyncIterator[Block]:
        assert self._queue is not None, "start() first"
        async for block in self._queue:
            yield block
        if self._stream is not None:  # ended without stop(): the device went away
            self.failure = f"{self.device.label} stopped delivering audio (unplugged?)"

    async def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await asyncio.to_thread(_close, stream)
        if self._queue is not None:
            self._queue.end()


def _close(stream: Any) -> None:
    try:
        stream.stop()
        stream.close()
    except Exception:  # closing a dead device must not raise
        pass
