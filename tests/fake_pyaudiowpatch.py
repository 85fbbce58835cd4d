"""A double of PyAudioWPatch, Windows' WASAPI loopback library (`pyaudiowpatch`), for tests
on Linux: `install(monkeypatch, FakeWindows())` puts it in sys.modules.

It behaves as the real one does where the app depends on it: each PyAudio() lists the devices
as they are when it is made (PortAudio enumerates once, at initialisation), outputs have a
loopback twin named "<output> [Loopback]" at the end of the list, the host API info names the
default output's index, and a callback stream is started on open. `FakeWindows` is the
machine: its outputs, which one is the default, whether WASAPI exists; a test changes it
between PyAudio() calls as a user plugging headphones in would.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

PA_WASAPI = 13
PA_FLOAT32 = 1
PA_INT16 = 8
PA_CONTINUE = 0


@dataclass
class FakeOutput:
    name: str
    sample_rate: int = 48000
    channels: int = 2
    loopback: bool = True  # Windows offers its loopback twin


@dataclass
class FakeWindows:
    outputs: list[FakeOutput] = field(
        default_factory=lambda: [FakeOutput("Speakers (Realtek(R) Audio)")]
    )
    default: str | None = "Speakers (Realtek(R) Audio)"
    wasapi: bool = True
    on_open: Callable[[], None] = lambda: None  # e.g. a clock moving on while a device opens
    streams: list[FakeStream] = field(default_factory=list)
    alive: int = 0  # PyAudio instances not terminated

    def output(self, name: str) -> FakeOutput:
        return next(output for output in self.outputs if output.name == name)


class FakeStream:
    def __init__(self, device: dict[str, Any], kwargs: dict[str, Any]) -> None:
        self.device = device
        self.kwargs = kwargs
        self.active = True
        self.closed = False

    @property
    def name(self) -> str:
        return str(self.device["name"])

    def play(self, samples: np.ndarray[Any, Any]) -> None:
        """What the output plays, as the loopback callback gets it (float32 frames x ch)."""
        assert self.active and not self.closed, "no callbacks from a stopped stream"
        data = np.ascontiguousarray(samples, dtype="<f4")
        answer = self.kwargs["stream_callback"](data.tobytes(), len(data), {}, 0)
        assert answer == (None, PA_CONTINUE)

    def unplug(self) -> None:
        self.active = False  # PortAudio stops a stream whose device went away

    def is_active(self) -> bool:
        return self.active

    def stop_stream(self) -> None:
        self.active = False

    def close(self) -> None:
        self.closed = True


class FakePyAudio:
    def __init__(self, machine: FakeWindows) -> None:
        self.machine = machine
        machine.alive += 1
        self.terminated = False
        self.devices: list[dict[str, Any]] = [
            {"index": 0, "name": "Microphone (Realtek(R) Audio)", "hostApi": 0,
             "maxInputChannels": 2, "maxOutputChannels": 0, "defaultSampleRate": 48000.0,
             "isLoopbackDevice": False},
        ]  # fmt: skip
        for output in machine.outputs:
            self.devices.append(self._device(output.name, output, loopback=False))
        for output in machine.outputs:
            if output.loopback:
                self.devices.append(self._device(f"{output.name} [Loopback]", output, True))
        names = [device["name"] for device in self.devices]
        self.default_output = names.index(machine.default) if machine.default in names else -1

    def _device(self, name: str, output: FakeOutput, loopback: bool) -> dict[str, Any]:
        return {
            "index": len(self.devices),
            "name": name,
            "hostApi": 0,
            "maxInputChannels": output.channels if loopback else 0,
            "maxOutputChannels": 0 if loopback else output.channels,
            "defaultSampleRate": float(output.sample_rate),
            "isLoopbackDevice": loopback,
        }

    def get_host_api_info_by_type(self, host_api_type: int) -> dict[str, Any]:
        if host_api_type != PA_WASAPI or not self.machine.wasapi:
            raise OSError(-9978, "Invalid host api info")
        return {"index": 0, "type": PA_WASAPI, "name": "Windows WASAPI",
                "defaultOutputDevice": self.default_output}  # fmt: skip

    def get_device_info_by_index(self, index: int) -> dict[str, Any]:
        return dict(self.devices[index])

    def get_loopback_device_info_generator(self) -> Iterator[dict[str, Any]]:
        return (dict(device) for device in self.devices if device["isLoopbackDevice"])

    def open(self, **kwargs: Any) -> FakeStream:
        assert not self.terminated
        device = self.devices[kwargs["input_device_index"]]
        assert kwargs["input"] and device["isLoopbackDevice"]
        assert kwargs["rate"] == int(device["defaultSampleRate"])  # shared mode: the mix rate
        assert kwargs["channels"] == device["maxInputChannels"]
        self.machine.on_open()
        stream = FakeStream(device, kwargs)
        self.machine.streams.append(stream)
        return stream

    def terminate(self) -> None:
        if not self.terminated:
            self.terminated = True
            self.machine.alive -= 1


def module(machine: FakeWindows) -> types.ModuleType:
    fake = types.ModuleType("pyaudiowpatch")
    fake.paWASAPI = PA_WASAPI  # type: ignore[attr-defined]
    fake.paFloat32 = PA_FLOAT32  # type: ignore[attr-defined]
    fake.paInt16 = PA_INT16  # type: ignore[attr-defined]
    fake.paContinue = PA_CONTINUE  # type: ignore[attr-defined]
    fake.PyAudio = lambda: FakePyAudio(machine)  # type: ignore[attr-defined]
    return fake


def install(monkeypatch: pytest.MonkeyPatch, machine: FakeWindows) -> FakeWindows:
    monkeypatch.setitem(sys.modules, "pyaudiowpatch", module(machine))
    return machine
