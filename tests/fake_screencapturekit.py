"""A double of pyobjc's ScreenCaptureKit and CoreMedia modules, for tests on Linux:
`install(monkeypatch, FakeMac())` puts both in sys.modules.

Only what app/audio/screencapture_audio.py calls, shaped as pyobjc shapes it: alloc().init…
constructors, completion handlers called on another thread (a dispatch queue's), NSError-like
errors with code() and localizedDescription(), `(ok, error)` for methods with an NSError**
out-argument, CoreMedia functions over sample buffers. `FakeMac` is the machine: whether the
user granted Screen & System Audio Recording, its displays, the streams started.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

USER_DECLINED = -3801
SYSTEM_STOPPED = -3821
OUTPUT_SCREEN, OUTPUT_AUDIO = 0, 1
FLOAT, NON_INTERLEAVED = 1, 1 << 5


@dataclass
class FakeMac:
    permission: bool = True
    displays: list[str] = field(default_factory=lambda: ["main display"])
    streams: list[FakeSCStream] = field(default_factory=list)
    stopped: int = 0  # stopCapture calls


class FakeNSError:
    def __init__(self, code: int, text: str) -> None:
        self._code, self._text = code, text

    def code(self) -> int:
        return self._code

    def localizedDescription(self) -> str:
        return self._text


def later(call: Callable[[], None]) -> None:
    """A completion handler runs on a dispatch queue, never on the caller's thread."""
    threading.Thread(target=call, daemon=True).start()


class NSObject:
    @classmethod
    def alloc(cls) -> Any:
        return cls.__new__(cls)

    def init(self) -> Any:
        return self


@dataclass
class AudioDescription:  # AudioStreamBasicDescription's fields that are read
    mSampleRate: float
    mChannelsPerFrame: int
    mFormatFlags: int
    mBitsPerChannel: int


@dataclass
class FakeSampleBuffer:
    data: bytes
    description: AudioDescription | None  # None: pyobjc cannot hand the description over


class FakeContent:
    def __init__(self, displays: list[str]) -> None:
        self._displays = displays

    def displays(self) -> list[str]:
        return self._displays


class FakeConfiguration(NSObject):
    def init(self) -> Any:
        self.values: dict[str, Any] = {}
        return self

    def __getattr__(self, name: str) -> Callable[[Any], None]:
        if not (name.startswith("set") and name.endswith("_")):
            raise AttributeError(name)
        key = name[3].lower() + name[4:-1]
        return lambda value: self.values.__setitem__(key, value)


class FakeFilter(NSObject):
    def initWithDisplay_excludingWindows_(self, display: str, windows: list[Any]) -> Any:
        self.display, self.windows = display, windows
        return self


class FakeSCStream(NSObject):
    def initWithFilter_configuration_delegate_(
        self, content_filter: FakeFilter, config: FakeConfiguration, delegate: Any
    ) -> Any:
        self.filter, self.config, self.delegate = content_filter, config, delegate
        self.outputs: list[tuple[Any, int, Any]] = []
        self.capturing = False
        self.mac: FakeMac = _machine
        return self

    def addStreamOutput_type_sampleHandlerQueue_error_(
        self, output: Any, kind: int, queue: Any, error: None
    ) -> tuple[bool, Any]:
        self.outputs.append((output, kind, queue))
        return True, None

    def startCaptureWithCompletionHandler_(self, handler: Callable[[Any], None]) -> None:
        self.capturing = True
        self.mac.streams.append(self)
        later(lambda: handler(None))

    def stopCaptureWithCompletionHandler_(self, handler: Callable[[Any], None]) -> None:
        self.capturing = False
        self.mac.stopped += 1
        later(lambda: handler(None))

    def deliver(self, buffer: Any, kind: int) -> None:
        for output, wanted, _ in self.outputs:
            if wanted == kind:
                output.stream_didOutputSampleBuffer_ofType_(self, buffer, kind)

    def play(self, samples: np.ndarray[Any, Any], rate: int = 48000, planar: bool = True) -> None:
        """What the Mac plays (float32 frames x channels), as ScreenCaptureKit hands it over:
        one channel after the other unless `planar` is false. The stream's video frame goes
        only to screen outputs (there are none)."""
        channels = samples.shape[1]
        laid_out = samples.T if planar else samples
        data = np.ascontiguousarray(laid_out, dtype="<f4").tobytes()
        flags = FLOAT | (NON_INTERLEAVED if planar else 0)
        description = AudioDescription(float(rate), channels, flags, 32)
        self.deliver("a video frame", OUTPUT_SCREEN)
        self.deliver(FakeSampleBuffer(data, description), OUTPUT_AUDIO)

    def system_stops(self, code: int = SYSTEM_STOPPED) -> None:
        self.capturing = False
        self.delegate.stream_didStopWithError_(self, FakeNSError(code, "The system stopped"))


_machine = FakeMac()


class FakeShareableContent:
    @staticmethod
    def getShareableContentWithCompletionHandler_(handler: Callable[[Any, Any], None]) -> None:
        mac = _machine
        if mac.permission:
            later(lambda: handler(FakeContent(mac.displays), None))
        else:
            error = FakeNSError(USER_DECLINED, "The user declined TCCs for application")
            later(lambda: handler(None, error))


def _block_buffer(buffer: FakeSampleBuffer) -> bytes | None:
    return buffer.data if buffer.data else None


def _description(buffer: FakeSampleBuffer) -> AudioDescription | None:
    return buffer.description


def _basic_description(description: AudioDescription | None) -> AudioDescription:
    if description is None:
        raise TypeError("cannot convert the description pointer")
    return description


def modules(mac: FakeMac) -> tuple[types.ModuleType, types.ModuleType]:
    global _machine
    _machine = mac
    sck = types.ModuleType("ScreenCaptureKit")
    sck.NSObject = NSObject  # type: ignore[attr-defined]
    sck.SCShareableContent = FakeShareableContent  # type: ignore[attr-defined]
    sck.SCContentFilter = FakeFilter  # type: ignore[attr-defined]
    sck.SCStreamConfiguration = FakeConfiguration  # type: ignore[attr-defined]
    sck.SCStream = FakeSCStream  # type: ignore[attr-defined]
    sck.SCStreamOutputTypeScreen = OUTPUT_SCREEN  # type: ignore[attr-defined]
    sck.SCStreamOutputTypeAudio = OUTPUT_AUDIO  # type: ignore[attr-defined]
    cm = types.ModuleType("CoreMedia")
    cm.CMTimeMake = lambda value, timescale: (value, timescale)  # type: ignore[attr-defined]
    cm.CMSampleBufferGetFormatDescription = _description  # type: ignore[attr-defined]
    cm.CMAudioFormatDescriptionGetStreamBasicDescription = _basic_description  # type: ignore[attr-defined]
    cm.CMSampleBufferGetDataBuffer = _block_buffer  # type: ignore[attr-defined]
    cm.CMBlockBufferGetDataLength = len  # type: ignore[attr-defined]
    cm.CMBlockBufferCopyDataBytes = (  # type: ignore[attr-defined]
        lambda block, offset, length, out: (0, block[offset : offset + length])
    )
    return sck, cm


def install(monkeypatch: pytest.MonkeyPatch, mac: FakeMac) -> FakeMac:
    sck, cm = modules(mac)
    monkeypatch.setitem(sys.modules, "ScreenCaptureKit", sck)
    monkeypatch.setitem(sys.modules, "CoreMedia", cm)
    import app.audio.screencapture_audio as screencapture_audio

    monkeypatch.setattr(screencapture_audio, "_receiver_class", None)  # made from this NSObject
    return mac
