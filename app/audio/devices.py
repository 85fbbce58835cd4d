"""Which capture devices exist: microphones and "System audio" (what the others say).

Linux: PulseAudio/PipeWire sources through `pactl`; system audio is the monitor of the
default output. Captured through PortAudio's ALSA `pulse` device with PULSE_SOURCE naming the
source. Windows (WASAPI loopback) and macOS (a loopback driver such as BlackHole) appear as
plain PortAudio devices here; they are untested on this project's CI.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)
Kind = Literal["microphone", "system"]
# Who captures a device: PortAudio (sounddevice), or the OS's own system-audio API.
Backend = Literal["portaudio", "wasapi-loopback", "screencapturekit"]


@dataclass(frozen=True)
class CaptureDevice:
    id: str  # stable across runs: saved in settings
    label: str
    kind: Kind
    pulse_source: str | None = None  # PulseAudio source name (Linux)
    portaudio_device: int | str | None = None  # sounddevice device (other platforms)
    backend: Backend = "portaudio"


PACTL_TIMEOUT_S = 3.0  # per call; a busy or hung sound server must not hold a Start forever
# Devices of Captionist's own making (app/audio/echo_cancel.py): never offered as a choice.
OWN_DEVICE_PREFIX = "captionist_"


class PactlError(Exception):
    """`pactl` is missing, failed or timed out; the message says which, for the user."""


@dataclass(frozen=True)
class DeviceList:
    devices: list[CaptureDevice]
    problem: str = ""  # why the sound server's devices are missing, when they are


def pactl(*args: str) -> str:
    """`pactl ARGS`'s output; blocks for up to PACTL_TIMEOUT_S. Untranslated (LC_ALL=C), as
    the long listings are parsed."""
    if shutil.which("pactl") is None:
        raise PactlError("pactl was not found")
    try:
        result = subprocess.run(
            ["pactl", *args],
            capture_output=True,
            text=True,
            timeout=PACTL_TIMEOUT_S,
            env={**os.environ, "LC_ALL": "C"},
        )
    except subprocess.TimeoutExpired as exc:
        raise PactlError(f"pactl did not answer within {PACTL_TIMEOUT_S:g} s") from exc
    except OSError as exc:
        raise PactlError(f"pactl could not run: {exc.strerror or exc}") from exc
    if result.returncode != 0:
        why = result.stderr.strip() or f"exit status {result.returncode}"
        raise PactlError(f"pactl failed: {why}")
    return result.stdout


def _pactl_name(*args: str) -> str:
    """A default sink or source name; empty when this pactl cannot say (older versions)."""
    try:
        return pactl(*args).strip()
    except PactlError:
        return ""


def pulse_devices() -> list[CaptureDevice]:
    """Devices from PulseAudio/PipeWire. Raises PactlError when no sound server answers."""
    sources = pactl("list", "short", "sources")
    default_sink = _pactl_name("get-default-sink")
    default_source = _pactl_name("get-default-source")
    devices: list[CaptureDevice] = []
    for line in sources.splitlines():
        fields = line.split("\t")
        if len(fields) < 2:
            continue
        name = fields[1]
        if name.startswith(OWN_DEVICE_PREFIX):
            continue
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


def scan_devices() -> DeviceList:
    """Every capture device, and why the sound server's are missing if they are. Blocks for
    up to a few seconds (pactl): the app calls it in a worker thread, never on its loop."""
    if not sys.platform.startswith("linux"):
        return DeviceList(portaudio_devices())
    try:
        return DeviceList(pulse_devices())
    except PactlError as exc:
        log.warning("no PulseAudio/PipeWire device list: %s", exc)
        return DeviceList(portaudio_devices(), str(exc))


def list_devices() -> list[CaptureDevice]:
    return scan_devices().devices


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
