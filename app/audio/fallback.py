"""The first of two sources that opens: macOS's ScreenCaptureKit, else a loopback driver.

Without the Screen & System Audio Recording permission (or on a Mac where ScreenCaptureKit
fails) the user who installed BlackHole still gets captions: its input is captured instead.
Why the first did not open is logged and kept in `notice`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from app.audio.base import AudioSource, Block, Dropout
from app.errors import AudioDeviceError

log = logging.getLogger(__name__)


class FallbackSource:
    def __init__(self, primary: AudioSource, fallback: AudioSource) -> None:
        self.sources = (primary, fallback)
        self.active = primary
        self.info = primary.info
        self.notice = ""  # why the fallback is in use

    @property
    def level(self) -> float:
        return self.active.level

    @property
    def dropouts(self) -> Sequence[Dropout]:
        return self.active.dropouts

    @property
    def failure(self) -> str | None:
        return self.active.failure

    @property
    def echo_cancelling(self) -> str:
        return self.active.echo_cancelling

    async def start(self) -> None:
        primary, fallback = self.sources
        try:
            await primary.start()
            return
        except AudioDeviceError as exc:
            log.warning("%s; capturing %s instead", exc, fallback.info.label)
            self.notice = str(exc)
        self.active, self.info = fallback, fallback.info
        await fallback.start()

    def blocks(self) -> AsyncIterator[Block]:
        return self.active.blocks()

    async def stop(self) -> None:
        await self.active.stop()
