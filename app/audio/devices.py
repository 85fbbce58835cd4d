"""Which capture devices exist: microphones and "System audio" (what the others say).

Linux: PulseAudio/PipeWire sources through `pactl`; system audio is the monitor of the
default output. Captured through PortAudio's ALSA `pulse` device with PULSE_SOURCE naming the
source. Windows (WASAPI loopback) and macOS (a loopback driver such as BlackHole) appear as
plain PortAudio devices here; they are untested on this project's CI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Literal

Kind = Literal["microphone", "system"]


@dataclass(frozen=True)
class CaptureDevice:
    id: str  # stable across runs: saved in settings
    label: str
    kind: Kind
    pulse_source: str | None = None  # PulseAudio source name (Linux)
    portaudio_device: int | str | None = None  # sounddevice device (other platforms)


def _pactl(*args: str) -> str | None:
    if shutil.which("pactl") is None:
        return None
    try:
        result = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=3)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def pulse_devices() -> list[CaptureDevice] | None:
    """Devices from PulseAudio/PipeWire, or None when no sound server answers."""
    sources = _pactl("list", "short", "sources")
    if sources is None:
        return None
    default_sink = (_pactl("get-default-sink") or "").strip()
    default_source = (_pactl("get-default-source") or "").strip()
    devices: list[CaptureDevice] = []
    for line in sources.splitlines():
        fields = line.split("\t")
        if len(fields) < 2:
            continue
        name = fields[1]
        if name.endswith(".monitor"):
            if name == f"{default_sink}.monitor":
                devices.append(CaptureDevice("system:default", "System audio", "system", name))
                continue
            devices.append(
                CaptureDevice(f"system:{name}", f"System audio ({name[:-8]})", "system", name)
            )
        else:
            label = "Microphone" if name == default_source else f"Microphone ({name})"
            devices.append(CaptureDevice(f"mic:{name}", label, "microphone", name))
    devices.sort(key=lambda d: (d.kind != "microphone", d.label != "Microphone"))
    return devices


def portaudio_devices() -> list[CaptureDevice]:
    try:
        import sounddevice
    except OSError:  # no PortAudio library
        return []
    devices = []
    for info in sounddevice.query_devices():
        if info["max_input_channels"] <= 0:
            continue
        name = str(info["name"])
        loopback = any(k in name.lower() for k in ("loopback", "blackhole", "stereo mix"))
        kind: Kind = "system" if loopback else "microphone"
        devices.append(CaptureDevice(f"pa:{name}", name, kind, None, name))
    return devices


def list_devices() -> list[CaptureDevice]:
    if sys.platform.startswith("linux"):
        found = pulse_devices()
        if found is not None:
            return found
    return portaudio_devices()


def find_device(device_id: str, devices: list[CaptureDevice] | None = None) -> CaptureDevice | None:
    for device in devices if devices is not None else list_devices():
        if device.id == device_id:
            return device
    return None


def default_device(kind: Kind, devices: list[CaptureDevice] | None = None) -> CaptureDevice | None:
    for device in devices if devices is not None else list_devices():
        if device.kind == kind:
            return device
    return None
