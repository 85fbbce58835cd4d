"""The OS-native capture formats as the app's blocks, and the silence a quiet loopback owes."""

from __future__ import annotations

import numpy as np
import pytest

from app.audio.pcm_blocks import BlockConverter, PcmFormat, SilencePacer, to_mono


def test_interleaved_int16_stereo_is_averaged_to_float_mono() -> None:
    # frames (L, R): (16384, 0), (-32768, -32768), (8192, 8192)
    data = np.array([16384, 0, -32768, -32768, 8192, 8192], dtype="<i2").tobytes()
    mono = to_mono(data, PcmFormat(48000, 2, "int16"))
    assert mono.dtype == np.float32
    assert mono.tolist() == [0.25, -1.0, 0.25]


def test_planar_float32_takes_each_channel_from_its_own_plane() -> None:
    left, right = [0.5, 0.5, -0.5], [0.1, 0.3, -0.1]
    data = np.array(left + right, dtype="<f4").tobytes()
    mono = to_mono(data, PcmFormat(48000, 2, "float32", planar=True))
    assert mono == pytest.approx([0.3, 0.4, -0.3])
    interleaved = to_mono(data, PcmFormat(48000, 2, "float32"))
    assert interleaved == pytest.approx([0.5, -0.2, 0.1])  # the same bytes read as pairs


def test_int32_and_a_torn_last_frame() -> None:
    data = np.array([2**30, 2**30, -(2**31)], dtype="<i4").tobytes()
    mono = to_mono(data, PcmFormat(44100, 2, "int32"))
    assert mono.tolist() == [0.5]  # the lone sample of an unfinished frame is left out


def test_a_format_the_app_cannot_read_is_refused() -> None:
    with pytest.raises(ValueError, match="channels"):
        PcmFormat(48000, 0)
    with pytest.raises(ValueError, match="int8"):
        PcmFormat(48000, 1, "int8")  # type: ignore[arg-type]


def test_48k_stereo_comes_out_as_16k_mono_blocks_without_seams() -> None:
    rate = 48000
    t = np.arange(rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    stereo = np.stack([tone, tone], axis=1).astype("<f4")
    converter = BlockConverter(PcmFormat(rate, 2, "float32"), 16000)
    blocks = [converter.convert(chunk.tobytes()) for chunk in np.array_split(stereo, 20)]
    out = np.concatenate([block[:, 0] for block in blocks])
    assert all(block.ndim == 2 and block.shape[1] == 1 for block in blocks)
    assert all(block.dtype == np.float32 for block in blocks)
    assert 16000 - 500 <= len(out) <= 16000  # the resampler holds back ~20 ms of its filter
    # soxr compensates its own delay: sample n is the tone's sample n at 16 kHz.
    reference = 0.5 * np.sin(2 * np.pi * 440 * np.arange(len(out)) / 16000)
    assert float(np.max(np.abs(out[200:] - reference[200:]))) < 1e-3  # no clicks at the edges


def test_16k_mono_passes_through_unchanged() -> None:
    samples = np.linspace(-1, 1, 320, dtype=np.float32)
    block = BlockConverter(PcmFormat(16000, 1), 16000).convert(samples.tobytes())
    assert block[:, 0].tolist() == samples.tolist()


def test_the_pacer_owes_silence_only_for_a_quiet_device() -> None:
    pacer = SilencePacer(16000, idle_s=0.25, lag_s=0.1)
    pacer.start(100.0)
    pacer.audio(1600, 100.1)  # 100 ms of audio, on time
    assert pacer.due(100.2) == 0  # still within a callback's gap
    assert pacer.due(101.1) == 16000 - 1600  # 1.1 s elapsed, less the 0.1 s lag allowance
    pacer.filled(pacer.due(101.1))
    assert pacer.due(101.1) == 0
    pacer.audio(8000, 101.2)  # playback resumed: audio runs a little ahead, nothing owed
    assert pacer.due(101.3) == 0
    assert pacer.frames == 24000
    assert pacer.due(103.0) == 46400 - 24000  # quiet again: (3 s - 0.1 s) of frames owed
