"""The parts of faster-whisper the engine runs, importable where PyAV is not installed.

The engine uses faster-whisper's feature extractor, tokenizer and language codes, never
`WhisperModel` or `decode_audio`. Its package `__init__` imports both, and so PyAV (FFmpeg,
~100 MB) and huggingface_hub, which the bundle leaves out (packaging/captionist.spec). Where
PyAV is missing, the package is registered without running that `__init__`, so its submodules
import on their own. Where PyAV is installed nothing changes. (Its Silero VAD file is not
used at run time: packaging/convert_silero.py extracts the weights into resources/models/.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType

from app.errors import EngineError

PACKAGE = "faster_whisper"
_lock = threading.Lock()


def faster_whisper_package() -> ModuleType:
    """faster_whisper, whole where PyAV is installed, else bare (submodules import lazily)."""
    with _lock:
        loaded = sys.modules.get(PACKAGE)
        if loaded is not None:
            return loaded
        if importlib.util.find_spec("av") is not None:
            return importlib.import_module(PACKAGE)
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise EngineError("whisper", "faster-whisper is not installed")
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        return package


def submodule(name: str) -> ModuleType:
    """faster_whisper.<name>, e.g. "tokenizer" or "feature_extractor"."""
    faster_whisper_package()
    return importlib.import_module(f"{PACKAGE}.{name}")


def assets_dir() -> Path:
    """faster-whisper's assets folder, without importing its utils (which pull in
    huggingface_hub): its silero_vad_v6.onnx is the reference the tests and
    bench/vad_speed.py hold the numpy VAD to."""
    return Path(next(iter(faster_whisper_package().__path__))) / "assets"
