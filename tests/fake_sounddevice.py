"""A double of sounddevice (PortAudio) for tests without a sound server:
`install(monkeypatch, ["BlackHole 2ch", ...])` puts it in sys.modules with those inputs."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest


class PortAudioError(Exception):
    pass


class FakeInputStream:
    def __init__(self, portaudio: FakePortAudio, kwargs: dict[str, Any]) -> None:
        self.kwargs = kwargs
        self.started = self.closed = False
        portaudio.streams.append(self)

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True

    def capture(self, block: np.ndarray[Any, Any]) -> None:
        """A block the device captured, handed to the callback as PortAudio does."""
        self.kwargs["callback"](block, len(block), None, None)


@dataclass
class FakePortAudio:
    inputs: list[str]
    streams: list[FakeInputStream] = field(default_factory=list)

    def query_devices(self) -> list[dict[str, Any]]:
        return [
            {"index": index, "name": name, "max_input_channels": 2, "default_samplerate": 48000.0}
            for index, name in enumerate(self.inputs)
        ]


def install(monkeypatch: pytest.MonkeyPatch, inputs: list[str]) -> FakePortAudio:
    portaudio = FakePortAudio(inputs)
    fake = types.ModuleType("sounddevice")
    fake.PortAudioError = PortAudioError  # type: ignore[attr-defined]
    fake.query_devices = portaudio.query_devices  # type: ignore[attr-defined]
    fake.InputStream = lambda **kwargs: FakeInputStream(portaudio, kwargs)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    return portaudio
