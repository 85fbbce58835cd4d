"""The speaker encoder's input: mel spectrogram, volume, partial windows, as Resemblyzer's."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from app.server.speakers.features import (
    mel_filterbank,
    mel_spectrogram,
    normalize_volume,
    partial_mels,
    partial_slices,
)
from tests.ge2e_reference import dft_mel_spectrogram, slaney_filterbank


def noisy_tone(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    audio = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(len(t))
    return audio.astype(np.float32)


def test_the_filterbank_is_slaneys_40_bands_to_8_khz() -> None:
    np.testing.assert_allclose(mel_filterbank(), slaney_filterbank(), rtol=1e-5, atol=1e-9)


def test_the_mel_spectrogram_equals_a_dft_by_definition() -> None:
    audio = noisy_tone(0.73)
    ours = mel_spectrogram(audio)
    reference = dft_mel_spectrogram(audio)
    assert ours.dtype == np.float32 and ours.shape == (1 + len(audio) // 160, 40)
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-6 * reference.max())


def test_the_mel_spectrogram_matches_librosa_when_installed() -> None:
    librosa = pytest.importorskip("librosa")
    audio = noisy_tone(1.3, seed=1)
    expected = librosa.feature.melspectrogram(
        y=audio, sr=16000, n_fft=400, hop_length=160, n_mels=40
    ).T
    np.testing.assert_allclose(
        mel_spectrogram(audio), expected, rtol=1e-4, atol=1e-6 * expected.max()
    )


def test_quiet_audio_is_raised_to_minus_30_dbfs_and_loud_audio_left_alone() -> None:
    quiet = noisy_tone(1.0) * 0.01
    raised = normalize_volume(quiet)
    assert raised.dtype == np.float32
    rms_db = 20 * np.log10(np.sqrt(np.mean(raised.astype(np.float64) ** 2)))
    assert rms_db == pytest.approx(-30.0, abs=1e-3)
    loud = noisy_tone(1.0)
    np.testing.assert_array_equal(normalize_volume(loud), loud)


def test_silence_and_empty_audio_pass_through_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(normalize_volume(np.zeros(800, np.float32)), 0.0)
        assert normalize_volume(np.zeros(0, np.float32)).size == 0


@pytest.mark.parametrize(
    ("seconds", "starts"),
    [
        (0.5, [0]),  # shorter than a window: one window, zero-padded
        (1.0, [0]),
        (2.5, [0, 77]),  # a third window would hold 60 % real audio (< 75 %): dropped
        (3.0, [0, 77, 154]),  # the third holds 91 %: kept
        (10.0, list(range(0, 848, 77))),
    ],
)
def test_partial_windows_at_1_3_per_second(seconds: float, starts: list[int]) -> None:
    windows = partial_slices(int(seconds * 16000))
    assert [w.start for w in windows] == starts
    assert all(w.stop - w.start == 160 for w in windows)


def test_partial_windows_reject_impossible_rates() -> None:
    with pytest.raises(ValueError, match="rate"):
        partial_slices(16000, rate=0.5)  # windows would leave gaps
    with pytest.raises(ValueError, match="min_coverage"):
        partial_slices(16000, min_coverage=0.0)


def test_partial_mels_pad_short_audio_and_slice_the_spectrogram() -> None:
    short = noisy_tone(0.5)
    mels = partial_mels(short)
    assert mels.shape == (1, 160, 40) and mels.dtype == np.float32
    np.testing.assert_array_equal(mels[0, 60:], 0.0)  # past the audio and its last window
    audio = noisy_tone(3.0)
    mels = partial_mels(audio)
    full = mel_spectrogram(np.pad(audio, (0, 314 * 160 - len(audio))))
    np.testing.assert_array_equal(mels[2], full[154:314])
