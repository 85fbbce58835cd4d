"""The CPU probe's measurements, kept so that later starts choose at once.

A measurement holds for one model on one computer with one app version and thread count: a
new CPU, a core more or less, or an update measures again. The file is a cache: one that
cannot be read or does not parse is ignored (and replaced at the next measurement).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from app import __version__
from app.models.store import app_cache_dir

log = logging.getLogger(__name__)
CACHE_FILE = "auto-model.json"
FIGURE = "seconds_per_speech_s"  # the entry field of a measurement
MAX_ENTRIES = 16


@dataclass(frozen=True)
class ProbeKey:
    model: str
    cpu: str
    cores: int
    threads: int
    app_version: str


def cpu_name() -> str:
    """The processor's model name (e.g. "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz")."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model", "Hardware")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            return subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True,
                text=True,
                timeout=5,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown"


def this_computer(model: str, threads: int) -> ProbeKey:
    return ProbeKey(model, cpu_name(), os.cpu_count() or 1, threads, __version__)


class ProbeCache:
    """Seconds of work per second of speech, by ProbeKey, in a JSON file. (Entries of the
    older per-audio-second figure, `seconds_per_audio_s`, are not read: measured again.)"""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or app_cache_dir() / CACHE_FILE

    def get(self, key: ProbeKey) -> float | None:
        for entry in self._entries():
            if entry.get("key") == asdict(key):
                figure = entry.get(FIGURE)
                if isinstance(figure, int | float) and figure > 0:
                    return float(figure)
                return None
        return None

    def put(self, key: ProbeKey, seconds_per_speech_s: float) -> None:
        entries = [e for e in self._entries() if e.get("key") != asdict(key)]
        entries.append({"key": asdict(key), FIGURE: round(seconds_per_speech_s, 4)})
        text = json.dumps({"measurements": entries[-MAX_ENTRIES:]}, indent=1)
        partial = self.path.with_name(self.path.name + ".part")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(text)
            os.replace(partial, self.path)
        except OSError as exc:  # only costs a new measurement at the next start
            log.warning("cannot save the CPU probe's result to %s: %s", self.path, exc)

    def _entries(self) -> list[dict[str, object]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("ignoring the unreadable CPU probe cache %s: %s", self.path, exc)
            return []
        entries = data.get("measurements") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            log.warning("ignoring the CPU probe cache %s: not a list of measurements", self.path)
            return []
        return [e for e in entries if isinstance(e, dict)]
