"""Silero VAD v6 (16 kHz) in numpy: the graph of faster-whisper's silero_vad_v6.onnx, no runtime.

The weights come from resources/models/silero_vad_v6.npz (extracted from that ONNX file by
packaging/convert_silero.py), sha256-checked before they are loaded. Per input row of 576
samples (64 of context, then a 512-sample window):

    reflect-pad 128 each side -> STFT as a 256-tap conv, hop 128, first frame dropped: 4 frames
    of 129 magnitudes -> conv k3 pad 1 (strides 1, 2, 2, 1) + relu: 128, 64, 64, 128 channels,
    4 -> 1 frames -> LSTM (hidden 128) -> relu -> 1x1 conv -> sigmoid: a speech probability.

The rows of a batch are the LSTM's time steps, in order: the state flows from each row to the
next, and the state after the last row is returned. That is how the ONNX graph treats a batch
(its LSTM reads the batch axis as the sequence), so one call on n rows equals n calls on one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from app.errors import EngineError
from app.models.verify import verified_arrays
from app.resources import resources_dir

MODEL_NAME = "Silero VAD v6"
MODEL_FILE = "models/silero_vad_v6.npz"
MODEL_SHA256 = "071c1b59d1adf149fb5109c7d9fb34acbc5c26deb94747b878744cc9efe01163"

INPUT = 576  # samples per row: 64 of context and a 512-sample window
HIDDEN = 128
STFT_HOP = 128  # half the 256 taps: a frame is two consecutive blocks of 128 samples
BINS = 129
FRAMES = 4  # the STFT frames after the dropped first: they start at 0, 128, 256, 384
PADDED = (FRAMES + 1) * STFT_HOP  # 640: the last frame reads 64 samples of right padding
CONV_STRIDES = (1, 2, 2, 1)

FloatArray = npt.NDArray[np.float32]


def model_path() -> Path:
    return resources_dir() / MODEL_FILE


@dataclass(frozen=True)
class Conv:
    """conv1d (kernel 3, zero padding 1) + relu over the few frames of each row, for
    (n, frames, in) activations: one matmul gives every frame times every tap's weights, then
    each output frame sums the taps that read its input frames (padding reads nothing)."""

    taps: FloatArray  # (in, used taps * out): the weights of the taps some frame reaches
    bias: FloatArray
    # (position among the used taps, output frames, input frames) for each used tap
    plan: tuple[tuple[int, slice, slice], ...]
    out_frames: int

    @classmethod
    def of(cls, weight: FloatArray, bias: FloatArray, frames: int, stride: int) -> Conv:
        kernel = weight.shape[2]
        out_frames = (frames + 2 - kernel) // stride + 1
        used: list[tuple[int, slice, slice]] = []
        for tap in range(kernel):
            # Output t reads input t * stride + tap - 1; keep the t for which that exists.
            outputs = [t for t in range(out_frames) if 0 <= t * stride + tap - 1 < frames]
            if outputs:
                first, last = outputs[0], outputs[-1]
                start = first * stride + tap - 1
                inputs = slice(start, last * stride + tap, stride)
                used.append((tap, slice(first, last + 1), inputs))
        taps = np.concatenate([weight[:, :, tap].T for tap, _, _ in used], axis=1)
        plan = tuple((i, out, inp) for i, (_, out, inp) in enumerate(used))
        return cls(
            np.ascontiguousarray(taps, np.float32), bias.astype(np.float32), plan, out_frames
        )

    def __call__(self, x: FloatArray) -> FloatArray:
        n, frames, channels = x.shape
        width = len(self.bias)
        products = (x.reshape(n * frames, channels) @ self.taps).reshape(n, frames, -1, width)
        out = np.empty((n, self.out_frames, width), np.float32)
        out[...] = self.bias
        for position, outputs, inputs in self.plan:
            out[:, outputs] += products[:, inputs, position]
        return np.maximum(out, 0.0, out=out)


class SileroNet:
    """The network: `run(rows, h, c)` -> (probabilities, h, c). Holds no per-call state, so one
    instance serves every thread."""

    _shared: ClassVar[SileroNet | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, weights: dict[str, FloatArray]) -> None:
        # A frame is blocks k and k+1 of 128 samples: one matmul of every block by both halves
        # of the basis, then a sum of shifted halves, spares the overlapping frame windows.
        basis = weights["stft_basis"][:, 0, :]
        self._stft = np.ascontiguousarray(
            np.concatenate([basis[:, :STFT_HOP].T, basis[:, STFT_HOP:].T], axis=1), np.float32
        )
        self._convs: list[Conv] = []
        frames = FRAMES
        for i, stride in enumerate(CONV_STRIDES):
            conv = Conv.of(weights[f"conv{i}_weight"], weights[f"conv{i}_bias"], frames, stride)
            self._convs.append(conv)
            frames = conv.out_frames
        # ONNX LSTM gates, in order i, o, f, c. sigmoid(x) = 0.5 + 0.5 tanh(x / 2): halving the
        # rows of i, o, f (exact in binary) lets one tanh serve all four gates.
        gate_scale = np.ones((4 * HIDDEN, 1), np.float32)
        gate_scale[: 3 * HIDDEN] = 0.5
        bias = weights["lstm_bias"].reshape(2, 4 * HIDDEN).sum(axis=0, dtype=np.float32)
        self._lstm_input = np.ascontiguousarray((weights["lstm_input_weight"][0] * gate_scale).T)
        self._lstm_recurrent = np.ascontiguousarray(
            (weights["lstm_recurrent_weight"][0] * gate_scale).T
        )
        self._lstm_bias = (bias * gate_scale[:, 0]).astype(np.float32)
        # The decoder's sigmoid the same way: 0.5 + 0.5 tanh(relu(h) . (w / 2) + b / 2).
        self._decoder = (weights["decoder_weight"].reshape(HIDDEN) * 0.5).astype(np.float32)
        self._decoder_bias = np.float32(weights["decoder_bias"][0] * 0.5)

    @classmethod
    def load(cls, path: Path | None = None, expected_sha256: str = MODEL_SHA256) -> SileroNet:
        """The network from `path` (the shipped weights by default), refused if it fails its
        hash."""
        path = path or model_path()
        try:
            return cls(verified_arrays(path, expected_sha256, MODEL_NAME))
        except (ValueError, KeyError) as exc:
            raise EngineError("vad", f"{path} is not a Silero VAD weights file: {exc}") from exc

    @classmethod
    def shared(cls) -> SileroNet:
        """The shipped weights, loaded once per process."""
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls.load()
            return cls._shared

    def run(
        self, rows: FloatArray, h: FloatArray, c: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(n, 576) rows and the (1, 1, 128) LSTM state before the first -> (n,) speech
        probabilities and the state after the last."""
        if rows.ndim != 2 or rows.shape[1] != INPUT:
            raise ValueError(f"rows of shape {rows.shape}; expected (n, {INPUT})")
        features = self.encode(rows.astype(np.float32, copy=False))
        hidden, h_out, c_out = self._lstm(features, h.reshape(HIDDEN), c.reshape(HIDDEN))
        logits = np.maximum(hidden, 0.0) @ self._decoder + self._decoder_bias
        probabilities: FloatArray = np.tanh(logits) * np.float32(0.5) + np.float32(0.5)
        return probabilities, h_out.reshape(1, 1, HIDDEN), c_out.reshape(1, 1, HIDDEN)

    def encode(self, rows: FloatArray) -> FloatArray:
        """(n, 576) -> (n, 128): the encoder's output, one frame per row."""
        n = len(rows)
        # The graph reflect-pads 128 samples each side and drops the first frame, the only one
        # that reads the left padding; the last frame reads 64 of the right: x[574], x[573]...
        padded = np.empty((n, PADDED), np.float32)
        padded[:, :INPUT] = rows
        padded[:, INPUT:] = rows[:, INPUT - 2 : 2 * INPUT - 2 - PADDED : -1]
        halves = (padded.reshape(-1, STFT_HOP) @ self._stft).reshape(n, FRAMES + 1, 2, -1)
        spectrum = halves[:, :-1, 0] + halves[:, 1:, 1]
        x = np.hypot(spectrum[..., :BINS], spectrum[..., BINS:])
        for conv in self._convs:
            x = conv(x)
        return x.reshape(n, HIDDEN)

    def _lstm(
        self, features: FloatArray, h: FloatArray, c: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """One step per row, in order; returns every step's h and the final (h, c)."""
        from_input = features @ self._lstm_input + self._lstm_bias
        hidden = np.empty((len(features), HIDDEN), np.float32)
        half = np.float32(0.5)
        for step, gates in enumerate(from_input):
            activated = np.tanh(gates + h @ self._lstm_recurrent)
            sigmoids = activated[: 3 * HIDDEN] * half + half
            c = sigmoids[2 * HIDDEN :] * c + sigmoids[:HIDDEN] * activated[3 * HIDDEN :]
            h = sigmoids[HIDDEN : 2 * HIDDEN] * np.tanh(c)
            hidden[step] = h
        return hidden, h, c
