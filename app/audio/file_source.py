"""Decode an audio file to float32 mono PCM (libsndfile first, FFmpeg through PyAV after).

The bundle leaves PyAV out (FFmpeg is ~100 MB of a 350 MB budget): there, what libsndfile
cannot read is refused with the formats it does read and a conversion command.
"""

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


# What libsndfile 1.2 (bundled with the soundfile wheel) reads; the rest needs FFmpeg.
SNDFILE_FORMATS = "WAV, FLAC, OGG (Vorbis, Opus), MP3 and AIFF"


SNDFILE_SUFFIXES = ("wav", "flac", "ogg", "opus", "mp3", "aif", "aiff")
FFMPEG_SUFFIXES = ("m4a", "aac", "webm", "mp4", "mkv")


def open_dialog_filter() -> str:
    """The Open dialog's filter: the files this build reads (FFmpeg's only where PyAV is)."""
    import importlib.util

    suffixes: tuple[str, ...] = SNDFILE_SUFFIXES
    if importlib.util.find_spec("av") is not None:
        suffixes += FFMPEG_SUFFIXES
    return f"Audio ({' '.join(f'*.{s}' for s in suffixes)});;All files (*)"


def without_ffmpeg(path: Path) -> str:
    kind = path.suffix.lstrip(".").upper() or "this"
    return (
        f"{kind} files need FFmpeg, which this build of Captionist leaves out; it reads "
        f"{SNDFILE_FORMATS}. Convert the file first, for example: "
        f'ffmpeg -i "{path}" "{path.with_suffix(".flac")}"'
    )


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
        except ImportError as exc:  # no PyAV: the bundle
            raise AudioFileError(str(path), without_ffmpeg(path)) from exc
        try:
            samples = decode_audio(str(path), sampling_rate=16000)
        except Exception as exc:
            raise AudioFileError(str(path), f"{sndfile_error}; {exc}") from exc
        audio = DecodedAudio(np.asarray(samples, dtype=np.float32), 16000)
    if not MIN_SAMPLE_RATE <= audio.sample_rate <= MAX_SAMPLE_RATE:
        import soxr

        resampled = soxr.resample(audio.samples, audio.sample_rate, 16000, quality="HQ")
        audio = DecodedAudio(np.asarray(resampled, dtype=np.float32), 16000)
    return audio
