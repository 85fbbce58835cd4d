"""The speaker encoder's input, exactly as Resemblyzer 0.1.4 computes it, in numpy.

Resemblyzer uses librosa.feature.melspectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=40):
a periodic Hann window, centred frames with 200 zeros of padding, power 2, 40 Slaney-scale mel
bands with Slaney area normalisation, and no log. Audio is first raised (never lowered) to
-30 dBFS; an utterance is cut into 1.6 s partial windows (160 frames) at 1.3 per second.
Resemblyzer's webrtcvad silence trimming is left out: the transcriber's VAD already bounds speech.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms window
HOP = 160  # 10 ms between frames
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s: the window the encoder was trained on
RATE = 1.3  # partial windows per second of audio
MIN_COVERAGE = 0.75  # a last window less than this full (of real audio) is dropped
TARGET_DBFS = -30.0
_INT16_MAX = 32767  # Resemblyzer's dBFS reference


def normalize_volume(audio: FloatArray, target_dbfs: float = TARGET_DBFS) -> FloatArray:
    """Raise quiet audio so its RMS is `target_dbfs`; louder audio and silence stay as they are."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    if rms == 0.0:
        return audio
    change_db = target_dbfs - 20.0 * math.log10(rms)
    if change_db <= 0.0:
        return audio
    return (audio * np.float32(10.0 ** (change_db / 20.0))).astype(np.float32, copy=False)


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Slaney's scale (librosa htk=False): linear to 1 kHz (15 mel), logarithmic above."""
    linear = hz / (200.0 / 3.0)
    log = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log, linear)


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    linear = mel * (200.0 / 3.0)
    log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log, linear)


@functools.cache
def mel_filterbank() -> FloatArray:
    """(40, 201): triangles on 42 mel-spaced edges from 0 to 8 kHz, each of unit area in Hz."""
    bins_hz = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    edges_mel = np.linspace(0.0, _hz_to_mel(np.array(SAMPLE_RATE / 2.0)), N_MELS + 2)
    edges_hz = _mel_to_hz(edges_mel)
    widths = np.diff(edges_hz)
    offsets = edges_hz[:, None] - bins_hz[None, :]
    rising = -offsets[:-2] / widths[:-1, None]
    falling = offsets[2:] / widths[1:, None]
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    triangles *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    bank = triangles.astype(np.float32)
    bank.flags.writeable = False  # shared by every caller
    return bank


@functools.cache
def _window() -> npt.NDArray[np.float64]:
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(N_FFT) / N_FFT)  # periodic Hann
    window.flags.writeable = False
    return window


def mel_spectrogram(audio: FloatArray) -> FloatArray:
    """(1 + len(audio) // 160, 40) power mel frames of 16 kHz audio."""
    padded = np.pad(audio.astype(np.float64), N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * _window(), axis=1)) ** 2
    return (power @ mel_filterbank().T.astype(np.float64)).astype(np.float32)


def partial_slices(
    n_samples: int, rate: float = RATE, min_coverage: float = MIN_COVERAGE
) -> list[slice]:
    """Mel-frame windows of 160 frames covering `n_samples` (VoiceEncoder.compute_partial_slices).

    At least one window is returned; it may reach past the audio, which is then zero-padded."""
    if not 0.0 < min_coverage <= 1.0:
        raise ValueError(f"min_coverage {min_coverage} is not in (0, 1]")
    step = round(SAMPLE_RATE / rate / HOP)
    if not 0 < step <= PARTIAL_FRAMES:
        raise ValueError(f"rate {rate} gives a step of {step} frames (1..{PARTIAL_FRAMES})")
    n_frames = math.ceil((n_samples + 1) / HOP)
    stop = max(1, n_frames - PARTIAL_FRAMES + step + 1)
    windows = [slice(start, start + PARTIAL_FRAMES) for start in range(0, stop, step)]
    coverage = (n_samples - windows[-1].start * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(windows) > 1:
        windows.pop()
    return windows


def partial_mels(
    audio: FloatArray, rate: float = RATE, min_coverage: float = MIN_COVERAGE
) -> FloatArray:
    """(n_partials, 160, 40): the encoder's batch for one utterance (volume already normalised)."""
    windows = partial_slices(len(audio), rate, min_coverage)
    needed = windows[-1].stop * HOP
    if needed > len(audio):
        audio = np.pad(audio, (0, needed - len(audio)))
    mel = mel_spectrogram(audio)
    return np.stack([mel[window] for window in windows])
