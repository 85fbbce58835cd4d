"""Which capture devices exist: microphones and "System audio" (what the others say).

Linux: PulseAudio/PipeWire sources through `pactl`; system audio is the monitor of the
default output. Captured through PortAudio's ALSA `pulse` device with PULSE_SOURCE naming the
source. Windows and macOS: PortAudio's devices, and first the OS's own system-audio capture,
"System audio": WASAPI loopback of the default output (app/audio/wasapi_loopback.py) and
ScreenCaptureKit on macOS 13+ (app/audio/screencapture_audio.py). A loopback driver such as
BlackHole, or Windows' Stereo Mix, is listed as system audio by its name. These two systems
are tested over doubles of their libraries only (no Windows or Mac in this project's CI).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import platform
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
        raise PactlError("pactl was not found: install it with sudo apt install pulseaudio-utils")
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


NATIVE_SYSTEM_AUDIO: dict[str, str] = {
    "wasapi-loopback": "what the default output plays (WASAPI loopback)",
    "screencapturekit": "what the Mac plays (ScreenCaptureKit)",
}
LOOPBACK_DRIVER_HINT = "install a loopback driver such as BlackHole and choose it"


def macos_major(release: str | None = None) -> int:
    """macOS's major version (13 for Ventura), 0 when it cannot be read."""
    release = platform.mac_ver()[0] if release is None else release
    try:
        return int(release.split(".")[0])
    except ValueError:
        return 0


def native_system_audio(
    system: str | None = None, mac_release: str | None = None
) -> CaptureDevice | None:
    """The OS's own system-audio capture, listed first as "System audio" (so it is the
    default): Windows always (WASAPI loopback), macOS from 13 (ScreenCaptureKit's audio).
    Listed even when its library is missing: a Start then says what to install."""
    system = sys.platform if system is None else system
    if system == "win32":
        backend: Backend = "wasapi-loopback"
    elif system == "darwin" and macos_major(mac_release) >= 13:
        backend = "screencapturekit"
    else:
        return None
    return CaptureDevice("system:default", "System audio", "system", backend=backend)


def native_library_installed(device: CaptureDevice) -> bool:
    module = {"wasapi-loopback": "pyaudiowpatch", "screencapturekit": "ScreenCaptureKit"}
    name = module.get(device.backend)
    return name is None or importlib.util.find_spec(name) is not None


def missing_system_audio_hint(system: str | None = None) -> str:
    """What to do when no system-audio device is found."""
    system = sys.platform if system is None else system
    if system == "darwin":
        return LOOPBACK_DRIVER_HINT
    if system == "win32":
        return "enable Stereo Mix in the Sound settings, or reinstall Captionist"
    return "check your sound settings"


def loopback_driver(devices: list[CaptureDevice]) -> CaptureDevice | None:
    """An installed loopback driver's input (BlackHole), found by its name."""
    return next((d for d in devices if d.kind == "system" and "blackhole" in d.label.lower()), None)


def scan_devices() -> DeviceList:
    """Every capture device, and why the sound server's are missing if they are. Blocks for
    up to a few seconds (pactl): the app calls it in a worker thread, never on its loop."""
    if not sys.platform.startswith("linux"):
        native = native_system_audio()
        return DeviceList(([native] if native else []) + portaudio_devices())
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
