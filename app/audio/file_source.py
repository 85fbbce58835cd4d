"""Decode an audio file to float32 mono PCM (libsndfile first, FFmpeg through PyAV after)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.errors import AudioFileError
from app.protocol.params import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from app.protocol.pcm import FloatArray


@dataclass(frozen=True)
class DecodedAudio:
    samples: FloatArray  # mono float32 in [-1, 1]
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


def read_audio(path: str | Path) -> DecodedAudio:
    path = Path(path)
    if not path.is_file():
        raise AudioFileError(str(path), "no such file")
    try:
        import soundfile

        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
        audio = DecodedAudio(np.ascontiguousarray(data.mean(axis=1), dtype=np.float32), int(rate))
    except Exception as sndfile_error:  # libsndfile cannot read it: try FFmpeg
        try:
            from faster_whisper.audio import decode_audio

            samples = decode_audio(str(path), sampling_rate=16000)
        except Exception as exc:
            raise AudioFileError(str(path), f"{sndfile_error}; {exc}") from exc
        audio = DecodedAudio(np.asarray(samples, dtype=np.float32), 16000)
    if not MIN_SAMPLE_RATE <= audio.sample_rate <= MAX_SAMPLE_RATE:
        import soxr

        resampled = soxr.resample(audio.samples, audio.sample_rate, 16000, quality="HQ")
        audio = DecodedAudio(np.asarray(resampled, dtype=np.float32), 16000)
    return audio
