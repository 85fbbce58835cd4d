"""`captionist models list|verify|install NAME`."""

from __future__ import annotations

import sys
import time

from app.models.registry import KNOWN_MODELS
from app.models.store import ModelStore


class ProgressBar:
    """A plain text progress bar on stderr, redrawn at most 10 times a second."""

    def __init__(self) -> None:
        self._last = 0.0
        self._file = ""

    def __call__(self, name: str, done: int, total: int) -> None:
        now = time.monotonic()
        if name == self._file and now - self._last < 0.1 and done < total:
            return
        self._file, self._last = name, now
        fraction = done / total if total else 1.0
        bar = "#" * int(fraction * 30)
        sys.stderr.write(f"\r{name:<16} [{bar:<30}] {fraction:6.1%} {done / 1e6:7.1f} MB")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def run_models(action: str, name: str | None, store: ModelStore | None = None) -> int:
    store = store or ModelStore()
    if action == "list":
        for spec in KNOWN_MODELS.values():
            source = store.installed_source(spec)
            state = f"installed ({source})" if source else "not installed"
            print(
                f"{spec.name:<10} {spec.total_size / 1e6:6.0f} MB  {state}\n"
                f"{'':<10} {spec.description}"
            )
        return 0
    if action == "verify":
        names = (
            [name] if name else [s.name for s in KNOWN_MODELS.values() if store.installed_source(s)]
        )
        for model in names:
            resolved = store.verify(model)
            print(f"{model}: ok ({resolved.source})")
        return 0
    if action == "install":
        if not name:
            print(
                "captionist models install: name a model: " + ", ".join(KNOWN_MODELS),
                file=sys.stderr,
            )
            return 2
        resolved = store.install(name, progress=ProgressBar())
        print(f"{name}: installed and verified in {resolved.path}")
        return 0
    raise AssertionError(action)
