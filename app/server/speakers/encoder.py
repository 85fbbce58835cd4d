"""Speaker embeddings from the GE2E voice encoder (Resemblyzer 0.1.4), run by ONNX Runtime.

The ONNX file in resources/models/ is converted once from Resemblyzer's weights by
packaging/convert_ge2e.py; it is hash-checked before it is loaded. An embedding is a (256,)
unit vector with no negative component, so the cosine of two embeddings lies in [0, 1].
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

import numpy as np

from app.errors import EngineError, ModelHashMismatch, ModelNotFound
from app.models.verify import sha256_of
from app.resources import resources_dir
from app.server.speakers.features import (
    MIN_COVERAGE,
    N_MELS,
    PARTIAL_FRAMES,
    RATE,
    FloatArray,
    normalize_volume,
    partial_mels,
)

MODEL_NAME = "GE2E speaker encoder"
MODEL_FILE = "models/ge2e_speaker_encoder.onnx"
MODEL_SHA256 = "f600ce576f0e93d35aa31528b072fd27ccbd0afec6b20fcb61b2692362c4d1b9"
EMBEDDING_SIZE = 256


def model_path() -> Path:
    return resources_dir() / MODEL_FILE


class SpeakerEncoder:
    """`load()` once, then `embed(audio)` from any thread (an ONNX Runtime session is)."""

    _shared: ClassVar[SpeakerEncoder | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        try:
            import onnxruntime
        except ImportError as exc:  # pragma: no cover - a dependency of faster-whisper
            raise EngineError("speakers", "onnxruntime is not installed") from exc
        options = onnxruntime.SessionOptions()
        # One thread: the cost is counted per audio second and captions come first.
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            str(path), providers=["CPUExecutionProvider"], sess_options=options
        )

    @classmethod
    def load(cls, path: Path | None = None, expected_sha256: str = MODEL_SHA256) -> SpeakerEncoder:
        """The encoder from `path` (the shipped model by default), refused if it fails its hash."""
        path = path or model_path()
        if not path.is_file():
            raise ModelNotFound(MODEL_NAME, [str(path)])
        actual = sha256_of(path)
        if actual != expected_sha256:
            raise ModelHashMismatch(MODEL_NAME, str(path), expected_sha256, actual)
        return cls(path)

    @classmethod
    def shared(cls) -> SpeakerEncoder:
        """The shipped model, loaded once per process."""
        with cls._lock:
            if cls._shared is None:
                cls._shared = cls.load()
            return cls._shared

    def embed_mels(self, mels: FloatArray) -> FloatArray:
        """(n, 160, 40) partial windows -> (n, 256) unit embeddings, one per window."""
        if mels.ndim != 3 or mels.shape[1:] != (PARTIAL_FRAMES, N_MELS):
            raise ValueError(
                f"mels of shape {mels.shape}; expected (n, {PARTIAL_FRAMES}, {N_MELS})"
            )
        if len(mels) == 0:
            return np.zeros((0, EMBEDDING_SIZE), np.float32)
        (embeds,) = self._session.run(None, {"mels": mels.astype(np.float32, copy=False)})
        return np.asarray(embeds, dtype=np.float32)

    def embed_partials(
        self, audio: FloatArray, rate: float = RATE, min_coverage: float = MIN_COVERAGE
    ) -> FloatArray:
        """(n_partials, 256): one embedding per 1.6 s window of 16 kHz `audio`."""
        if len(audio) == 0:
            raise ValueError("no audio to embed")
        return self.embed_mels(partial_mels(normalize_volume(audio), rate, min_coverage))

    def embed(
        self, audio: FloatArray, rate: float = RATE, min_coverage: float = MIN_COVERAGE
    ) -> FloatArray:
        """(256,): the utterance embedding, the normalised mean of its partial embeddings."""
        return unit_mean(self.embed_partials(audio, rate, min_coverage))


def unit_mean(embeddings: FloatArray) -> FloatArray:
    """The L2-normalised mean of (n, 256) embeddings (of partials, utterances or a speaker)."""
    mean: FloatArray = embeddings.mean(axis=0, dtype=np.float32)
    norm = float(np.linalg.norm(mean))
    return mean / np.float32(norm) if norm > 0.0 else mean
