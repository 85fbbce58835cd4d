"""References for the speaker encoder tests: Resemblyzer's weights read by the conversion script,
a plain numpy forward pass in torch's LSTM equations, and a DFT-by-definition mel spectrogram."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tests.packaging_scripts import packaging_script

ROOT = Path(__file__).resolve().parents[1]


def converter() -> ModuleType:
    return packaging_script("convert_ge2e")


def checkpoint_or_skip() -> Path:
    """resemblyzer's pretrained.pt, hash-checked; the test skips when resemblyzer is absent."""
    convert = converter()
    try:
        path: Path = convert.verified_checkpoint()
    except convert.ConversionError as exc:
        pytest.skip(f"no reference weights: {exc}")
    return path


def _sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return result


def encoder_forward(weights: dict[str, np.ndarray], mels: np.ndarray) -> np.ndarray:
    """resemblyzer.VoiceEncoder.forward in float64: torch's nn.LSTM (gates i, f, g, o), zero
    initial state, the last layer's final hidden state, Linear, ReLU, L2 normalisation."""
    x = mels.astype(np.float64)
    batch, steps, _ = x.shape
    for layer in range(3):
        w_ih = weights[f"lstm.weight_ih_l{layer}"].astype(np.float64)
        w_hh = weights[f"lstm.weight_hh_l{layer}"].astype(np.float64)
        bias = weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"].astype(
            np.float64
        )
        h = np.zeros((batch, 256))
        c = np.zeros((batch, 256))
        outputs = np.empty((batch, steps, 256))
        for t in range(steps):
            gates = x[:, t] @ w_ih.T + h @ w_hh.T + bias
            i, f, g, o = np.split(gates, 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            outputs[:, t] = h
        x = outputs
    projected = h @ weights["linear.weight"].astype(np.float64).T + weights["linear.bias"]
    rectified = np.maximum(projected, 0.0)
    embeds: np.ndarray = rectified / np.linalg.norm(rectified, axis=1, keepdims=True)
    return embeds


def _hz_to_mel(hz: float) -> float:
    return hz * 3.0 / 200.0 if hz < 1000.0 else 15.0 + math.log(hz / 1000.0) * 27.0 / math.log(6.4)


def _mel_to_hz(mel: float) -> float:
    return (
        mel * 200.0 / 3.0 if mel < 15.0 else 1000.0 * math.exp((mel - 15.0) * math.log(6.4) / 27.0)
    )


def slaney_filterbank() -> np.ndarray:
    """(40, 201), band by band and bin by bin from Slaney's definition."""
    top = _hz_to_mel(8000.0)
    edges = [_mel_to_hz(top * i / 41) for i in range(42)]
    bank = np.zeros((40, 201))
    for band in range(40):
        low, centre, high = edges[band : band + 3]
        for b in range(201):
            hz = b * 40.0  # 16 kHz / 400-point FFT
            if low < hz <= centre:
                weight = (hz - low) / (centre - low)
            elif centre < hz < high:
                weight = (high - hz) / (high - centre)
            else:
                weight = 0.0
            bank[band, b] = weight * 2.0 / (high - low)  # unit area in Hz
    return bank


def dft_mel_spectrogram(audio: np.ndarray) -> np.ndarray:
    """librosa.feature.melspectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=40).T,
    with the DFT written out as a matrix rather than an FFT."""
    window = np.hanning(401)[:-1]  # the periodic Hann window: the symmetric one of 401, cut
    padded = np.concatenate([np.zeros(200), audio.astype(np.float64), np.zeros(200)])
    frames = np.array([padded[i * 160 : i * 160 + 400] for i in range(1 + len(audio) // 160)])
    dft = np.exp(-2j * np.pi * np.outer(np.arange(201), np.arange(400)) / 400)
    power = np.abs((frames * window) @ dft.T) ** 2
    mel: np.ndarray = power @ slaney_filterbank().T
    return mel
