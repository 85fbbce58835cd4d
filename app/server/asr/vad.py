"""Streaming Silero VAD (the ONNX model shipped in faster-whisper's assets).

The model reads 512-sample windows at 16 kHz with 64 samples of left context and an LSTM
state; we carry both across calls so streaming gives the same probabilities as one batch.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

from app.errors import EngineError

WINDOW = 512  # samples at 16 kHz: 32 ms
CONTEXT = 64
SAMPLE_RATE = 16000


def _model_path() -> str:
    from app.server.asr.whisper_parts import assets_dir

    return str(assets_dir() / "silero_vad_v6.onnx")


class SileroSession:
    """Shared ONNX session; one per process is enough (stateless apart from inputs)."""

    _instance: SileroSession | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        try:
            import onnxruntime
        except ImportError as exc:  # pragma: no cover - a dependency of faster-whisper
            raise EngineError("vad", "onnxruntime is not installed") from exc
        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 4
        self.session = onnxruntime.InferenceSession(
            _model_path(), providers=["CPUExecutionProvider"], sess_options=options
        )

    @classmethod
    def shared(cls) -> SileroSession:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance


class StreamingVad:
    """Feed 16 kHz float32 audio of any length; get one speech probability per 32 ms window."""

    def __init__(self, session: SileroSession | None = None) -> None:
        self._session = session or SileroSession.shared()
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def process(self, audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        data = np.concatenate([self._pending, audio.astype(np.float32, copy=False)])
        count = len(data) // WINDOW
        self._pending = data[count * WINDOW :]
        if count == 0:
            return np.zeros(0, dtype=np.float32)
        windows = data[: count * WINDOW].reshape(count, WINDOW)
        contexts = np.empty((count, CONTEXT), dtype=np.float32)
        contexts[0] = self._context
        contexts[1:] = windows[:-1, -CONTEXT:]
        self._context = windows[-1, -CONTEXT:].copy()
        batch = np.concatenate([contexts, windows], axis=1)
        probs, self._h, self._c = self._session.session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        return np.asarray(probs, dtype=np.float32).reshape(-1)
