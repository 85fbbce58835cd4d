"""Streaming resampling to the engine's 16 kHz with libsoxr (a real band-limited resampler)."""

from __future__ import annotations

import numpy as np

from app.protocol.pcm import FloatArray

TARGET_RATE = 16000


class StreamResampler:
    def __init__(self, rate: int, target: int = TARGET_RATE) -> None:
        self.rate = rate
        self.target = target
        self._stream = None
        if rate != target:
            import soxr

            self._stream = soxr.ResampleStream(rate, target, 1, dtype="float32", quality="HQ")

    def process(self, audio: FloatArray, *, last: bool = False) -> FloatArray:
        if self._stream is None:
            return audio
        out = self._stream.resample_chunk(audio, last=last)
        return np.asarray(out, dtype=np.float32).reshape(-1)

    def flush(self) -> FloatArray:
        return self.process(np.zeros(0, dtype=np.float32), last=True)
