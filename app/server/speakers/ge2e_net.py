"""Resemblyzer's GE2E voice encoder forward pass in float32 numpy: no ONNX Runtime.

    mels (n, 160, 40) -> LSTM x3 (hidden 256) -> last layer's final hidden state
    -> linear 256x256 -> ReLU -> L2 normalisation -> (n, 256)

The weights come from packaging/convert_ge2e.py, already in the layout used here (WEIGHT_SHAPES):
matrices transposed so a row of inputs multiplies them directly, the two LSTM biases summed, and
the gates stacked i, f, o, g (torch's order is i, f, g, o) so one tanh-based sigmoid covers the
first three and one tanh the last. The batch of windows is vectorised; only the 160 time steps
are a Python loop, and each layer's input projection is one matmul over all steps.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from app.server.speakers.features import N_MELS, FloatArray

HIDDEN = 256
LAYERS = 3
EMBEDDING_SIZE = 256
GATES = 4 * HIDDEN


def _layer_shapes(layer: int) -> dict[str, tuple[int, ...]]:
    inputs = N_MELS if layer == 0 else HIDDEN
    return {
        f"lstm{layer}.input_weights": (inputs, GATES),
        f"lstm{layer}.recurrent_weights": (HIDDEN, GATES),
        f"lstm{layer}.bias": (GATES,),
    }


WEIGHT_SHAPES: dict[str, tuple[int, ...]] = {
    **{k: v for layer in range(LAYERS) for k, v in _layer_shapes(layer).items()},
    "linear.weights": (HIDDEN, EMBEDDING_SIZE),
    "linear.bias": (EMBEDDING_SIZE,),
}


class Ge2eNet:
    """Stateless once built: `embed` may run on several threads at once."""

    def __init__(self, weights: Mapping[str, npt.NDArray[np.generic]]) -> None:
        missing = sorted(set(WEIGHT_SHAPES) - set(weights))
        if missing:
            raise ValueError(f"GE2E weights lack {', '.join(missing)}")
        for name, shape in WEIGHT_SHAPES.items():
            if weights[name].shape != shape:
                raise ValueError(f"GE2E weight {name} has shape {weights[name].shape}, not {shape}")
        self._weights: dict[str, FloatArray] = {
            name: np.ascontiguousarray(weights[name], dtype=np.float32) for name in WEIGHT_SHAPES
        }

    def embed(self, mels: FloatArray) -> FloatArray:
        """(n, steps, 40) mel windows -> (n, 256) non-negative unit embeddings."""
        # Time-major, so a step's rows are one contiguous block of every layer's buffers.
        x = np.ascontiguousarray(mels.transpose(1, 0, 2), dtype=np.float32)
        for layer in range(LAYERS):
            hidden, x = self._lstm_layer(layer, x, keep_outputs=layer < LAYERS - 1)
        w = self._weights
        projected = hidden @ w["linear.weights"] + w["linear.bias"]
        rectified: FloatArray = np.maximum(projected, np.float32(0.0))
        normalised: FloatArray = rectified / np.linalg.norm(rectified, axis=1, keepdims=True)
        return normalised

    def _lstm_layer(
        self, layer: int, x: FloatArray, keep_outputs: bool
    ) -> tuple[FloatArray, FloatArray]:
        """torch.nn.LSTM's equations from a zero state over time-major `x` (steps, n, inputs):
        the final hidden state and, if kept, every step's hidden state (steps, n, 256)."""
        steps, batch, inputs = x.shape
        w = self._weights
        recurrent = w[f"lstm{layer}.recurrent_weights"]
        projected = x.reshape(steps * batch, inputs) @ w[f"lstm{layer}.input_weights"]
        projected += w[f"lstm{layer}.bias"]
        projected = projected.reshape(steps, batch, GATES)
        outputs = np.empty((steps if keep_outputs else 1, batch, HIDDEN), np.float32)
        hidden = np.zeros((batch, HIDDEN), np.float32)
        cell = np.zeros((batch, HIDDEN), np.float32)
        gates = np.empty((batch, GATES), np.float32)
        scratch = np.empty((batch, HIDDEN), np.float32)
        sigmoids = gates[:, : 3 * HIDDEN]
        input_gate = gates[:, :HIDDEN]
        forget_gate = gates[:, HIDDEN : 2 * HIDDEN]
        output_gate = gates[:, 2 * HIDDEN : 3 * HIDDEN]
        candidate = gates[:, 3 * HIDDEN :]
        for t in range(steps):
            np.matmul(hidden, recurrent, out=gates)
            gates += projected[t]
            # sigmoid(z) = (tanh(z / 2) + 1) / 2: no overflow for very negative z.
            sigmoids *= np.float32(0.5)
            np.tanh(sigmoids, out=sigmoids)
            sigmoids *= np.float32(0.5)
            sigmoids += np.float32(0.5)
            np.tanh(candidate, out=candidate)
            cell *= forget_gate
            np.multiply(input_gate, candidate, out=scratch)
            cell += scratch
            np.tanh(cell, out=scratch)
            hidden = outputs[t if keep_outputs else 0]
            np.multiply(output_gate, scratch, out=hidden)
        return hidden, outputs
