"""The microphone of Both mode: captured through the sound server's echo canceller for the
session when it loads (app/audio/echo_cancel.py), else the microphone itself. Either way the
transcript's echo guard (app/domain/echo.py) stays on."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from app.audio.capture import DeviceSource
from app.audio.devices import CaptureDevice
from app.audio.echo_cancel import GUARD_ONLY, SERVER_AEC, EchoCanceller, engage
from app.errors import AudioDeviceError

log = logging.getLogger(__name__)


class EchoCancelledMicrophone(DeviceSource):
    def __init__(
        self, microphone: CaptureDevice, system: CaptureDevice, *, sample_rate: int = 16000
    ) -> None:
        super().__init__(microphone, sample_rate=sample_rate)
        self.microphone = microphone
        self.system = system
        self.canceller: EchoCanceller | None = None
        self.echo_cancelling = GUARD_ONLY  # what the session figures say

    async def start(self) -> None:
        mic, system = self.microphone.pulse_source, self.system.pulse_source
        if mic and system:  # pactl blocks: off the loop
            self.canceller = await asyncio.to_thread(engage, mic, system)
        if self.canceller is not None:
            cancelled = self.canceller.plan.source_name
            self.device = replace(self.microphone, pulse_source=cancelled)
            self.echo_cancelling = SERVER_AEC
            try:
                await super().start()
                return
            except AudioDeviceError as exc:
                log.warning("the echo-cancelled microphone did not open (%s): the plain one", exc)
                await self._disengage()
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        await self._disengage()

    async def _disengage(self) -> None:
        canceller, self.canceller = self.canceller, None
        self.device, self.echo_cancelling = self.microphone, GUARD_ONLY
        if canceller is not None:
            await asyncio.to_thread(canceller.disengage)
