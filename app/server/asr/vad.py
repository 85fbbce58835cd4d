"""Streaming Silero VAD v6, run in numpy (app/server/asr/silero_net.py).

The model reads 512-sample windows at 16 kHz with 64 samples of left context and an LSTM
state; we carry both across calls so streaming gives the same probabilities as one batch.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from app.server.asr.silero_net import SileroNet

FloatArray = npt.NDArray[np.float32]

WINDOW = 512  # samples at 16 kHz: 32 ms
CONTEXT = 64
SAMPLE_RATE = 16000


class VadNetwork(Protocol):
    """What runs the windows: SileroNet; in tests and bench/vad_speed.py, ONNX Runtime too."""

    def run(
        self, rows: FloatArray, h: FloatArray, c: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(n, 576) rows and the LSTM state before the first -> (n,) probabilities and the
        state after the last (the rows are the LSTM's time steps)."""
        ...


class StreamingVad:
    """Feed 16 kHz float32 audio of any length; get one speech probability per 32 ms window."""

    def __init__(self, net: VadNetwork | None = None) -> None:
        self._net: VadNetwork = net or SileroNet.shared()
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def process(self, audio: FloatArray) -> FloatArray:
        data = np.concatenate([self._pending, audio.astype(np.float32, copy=False)])
        count = len(data) // WINDOW
        self._pending = data[count * WINDOW :]
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        windows = data[: count * WINDOW].reshape(count, WINDOW)
        contexts = np.empty((count, CONTEXT), dtype=np.float32)
        contexts[0] = self._context
        contexts[1:] = windows[:-1, -CONTEXT:]
        self._context = windows[-1, -CONTEXT:].copy()
        batch = np.concatenate([contexts, windows], axis=1)
        probabilities, self._h, self._c = self._net.run(batch, self._h, self._c)
        return probabilities
