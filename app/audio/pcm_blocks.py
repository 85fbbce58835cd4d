"""Audio from the OS's own capture APIs as the app's blocks: float32 mono at 16 kHz.

WASAPI loopback (Windows) and ScreenCaptureKit (macOS) deliver the device's format: 44.1 or
48 kHz, two channels or more, float or integer, interleaved or one channel after the other.
Here it becomes what every other source gives the app: float32 in [-1, 1], the channels
averaged to mono, resampled as a stream (soxr keeps its filter state between blocks, so block
edges leave no clicks).

And the pacer: a loopback device delivers nothing at all while nothing plays. Silence has to
stand for that time, or the stream's clock would run slow: the transcript's times would drift
from the meeting's, and Both mode would pair the microphone with later system audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import soxr

from app.audio.base import Block
from app.protocol.pcm import FloatArray

Encoding = Literal["float32", "int16", "int32"]
_DTYPES: dict[str, str] = {"float32": "<f4", "int16": "<i2", "int32": "<i4"}
_FULL_SCALE: dict[str, float] = {"int16": 32768.0, "int32": 2147483648.0}


@dataclass(frozen=True)
class PcmFormat:
    sample_rate: int
    channels: int
    encoding: Encoding = "float32"
    planar: bool = False  # each channel's samples in a run of their own, not interleaved

    def __post_init__(self) -> None:
        if self.channels < 1:
            raise ValueError(f"a capture format needs channels (got {self.channels})")
        if self.encoding not in get_args(Encoding):
            raise ValueError(f"no reader for {self.encoding} samples")
        if self.sample_rate <= 0:
            raise ValueError(f"a capture format needs a sample rate (got {self.sample_rate})")


def to_mono(data: bytes, fmt: PcmFormat) -> FloatArray:
    """The samples in `data` as float32 mono; an unfinished last frame is left out."""
    samples: np.ndarray[Any, Any] = np.frombuffer(data, dtype=_DTYPES[fmt.encoding])
    frames = len(samples) // fmt.channels
    samples = samples[: frames * fmt.channels]
    scaled = samples.astype(np.float32)
    if fmt.encoding in _FULL_SCALE:
        scaled /= np.float32(_FULL_SCALE[fmt.encoding])
    if fmt.channels == 1:
        return scaled
    shaped = scaled.reshape(fmt.channels, frames).T if fmt.planar else scaled.reshape(frames, -1)
    return np.ascontiguousarray(shaped.mean(axis=1, dtype=np.float32), dtype=np.float32)


class BlockConverter:
    """One capture stream's bytes, block after block, as the app's (frames, 1) blocks."""

    def __init__(self, fmt: PcmFormat, rate: int = 16000) -> None:
        self.fmt = fmt
        self.rate = rate
        self._resampler: Any = None
        if fmt.sample_rate != rate:
            self._resampler = soxr.ResampleStream(fmt.sample_rate, rate, 1, dtype="float32")

    def convert(self, data: bytes) -> Block:
        mono = to_mono(data, self.fmt)
        if self._resampler is not None:
            mono = np.asarray(self._resampler.resample_chunk(mono), dtype=np.float32)
        return mono.reshape(-1, 1)


class SilencePacer:
    """How many frames of silence stand for the time a capture delivered nothing.

    Counts the frames handed on (audio and silence) against the clock since the start. While
    audio comes (a callback at least every `idle_s`), nothing is owed: devices deliver in
    bursts. Once it stops, what the clock says is missing, less `lag_s` (so audio that resumes
    is not pushed late by silence put in just before it), is owed.
    """

    def __init__(self, rate: int, *, idle_s: float = 0.25, lag_s: float = 0.1) -> None:
        self.rate = rate
        self.idle_s = idle_s
        self.lag_s = lag_s
        self.frames = 0  # handed on since the start, audio and silence
        self._start = 0.0
        self._last_audio = 0.0

    def start(self, now: float) -> None:
        self._start = self._last_audio = now
        self.frames = 0

    def audio(self, frames: int, now: float) -> None:
        self.frames += frames
        self._last_audio = now

    def filled(self, frames: int) -> None:
        self.frames += frames

    def due(self, now: float, *, idle: bool = False) -> int:
        """Frames owed at `now`; `idle`: the device is known to have delivered nothing (it
        was closed), so the time since the last audio need not be waited out."""
        if not idle and now - self._last_audio < self.idle_s:
            return 0
        expected = round((now - self._start - self.lag_s) * self.rate)
        return max(0, expected - self.frames)
