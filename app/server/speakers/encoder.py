"""Speaker embeddings from the GE2E voice encoder (Resemblyzer 0.1.4), computed in numpy.

The weights file in resources/models/ (an .npz) is converted once from Resemblyzer's weights by
packaging/convert_ge2e.py; it is hash-checked before it is loaded, and ge2e_net.py runs it. An
embedding is a (256,) unit vector with no negative component, so the cosine of two embeddings
lies in [0, 1].
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import ClassVar

import numpy as np

from app.errors import EngineError
from app.models.verify import verified_arrays
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
from app.server.speakers.ge2e_net import EMBEDDING_SIZE, Ge2eNet

MODEL_NAME = "GE2E speaker encoder"
MODEL_FILE = "models/ge2e_speaker_encoder.npz"
MODEL_SHA256 = "59c3945d3e48bf31955fddb9d7863ed8b8f6f1a6232b8396a17fe26876e99372"


def model_path() -> Path:
    return resources_dir() / MODEL_FILE


class SpeakerEncoder:
    """`load()` once, then `embed(audio)` from any thread (the net keeps no state between calls)."""

    _shared: ClassVar[SpeakerEncoder | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, net: Ge2eNet) -> None:
        self._net = net

    @classmethod
    def load(cls, path: Path | None = None, expected_sha256: str = MODEL_SHA256) -> SpeakerEncoder:
        """The encoder from `path` (the shipped model by default), refused if it fails its hash."""
        path = path or model_path()
        try:
            return cls(Ge2eNet(verified_arrays(path, expected_sha256, MODEL_NAME)))
        except (ValueError, KeyError) as exc:
            raise EngineError("speakers", f"{path} is not a GE2E weights file: {exc}") from exc

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
        return self._net.embed(mels.astype(np.float32, copy=False))

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
