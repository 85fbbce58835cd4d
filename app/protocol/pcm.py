"""PCM helpers: s16le bytes <-> float32 arrays, per-channel split, frame checks."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from app.errors import ProtocolError
from app.protocol.close_codes import CloseCode

FloatArray = npt.NDArray[np.float32]
_SCALE = 32768.0


def decode_frame(data: bytes, channels: int) -> list[FloatArray]:
    """Decode one binary frame of interleaved s16le PCM into one float32 array per channel.

    Raises ProtocolError(1007) when the frame does not hold whole sample frames.
    """
    frame_bytes = 2 * channels
    if len(data) % frame_bytes:
        raise ProtocolError(
            CloseCode.INVALID_DATA,
            f"audio frame of {len(data)} bytes is not a whole number of "
            f"{channels}-channel 16-bit samples",
        )
    samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / _SCALE
    if channels == 1:
        return [samples]
    frames = samples.reshape(-1, channels)
    return [np.ascontiguousarray(frames[:, c]) for c in range(channels)]


def encode_pcm(audio: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> bytes:
    """Encode float audio in [-1, 1] (shape (n,) or (n, channels)) as interleaved s16le."""
    array = np.asarray(audio)
    if array.dtype.kind == "f":
        array = np.clip(np.rint(array * _SCALE), -32768, 32767).astype("<i2")
    elif array.dtype != np.dtype("<i2"):
        array = array.astype("<i2")
    return array.tobytes()


def duration_of(byte_count: int, sample_rate: int, channels: int) -> float:
    return byte_count / (2 * channels * sample_rate)


def chunk_bytes(sample_rate: int, channels: int, seconds: float) -> int:
    """Byte length of `seconds` of audio, rounded down to whole sample frames."""
    frames = max(1, round(sample_rate * seconds))
    return frames * 2 * channels
