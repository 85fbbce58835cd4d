"""The live source for a Start: the saved microphone and/or system-audio device, else the
system's default one."""

from __future__ import annotations

import asyncio
import sys

from app.audio.base import AudioSource
from app.audio.both import BothSource
from app.audio.capture import DeviceSource
from app.audio.devices import (
    CaptureDevice,
    default_device,
    find_device,
    loopback_driver,
    missing_system_audio_hint,
    scan_devices,
)
from app.audio.echo_cancelled_mic import EchoCancelledMicrophone
from app.errors import AudioDeviceError


def system_source(device: CaptureDevice, devices: list[CaptureDevice]) -> AudioSource:
    """The source that captures `device`: the OS's own API for "System audio" on Windows and
    macOS (imported only there), PortAudio for the rest. On macOS an installed loopback
    driver (BlackHole) stands in when ScreenCaptureKit cannot open (no permission)."""
    if device.backend == "wasapi-loopback":
        from app.audio.wasapi_loopback import WasapiLoopbackSource

        return WasapiLoopbackSource(device)
    if device.backend == "screencapturekit":
        from app.audio.fallback import FallbackSource
        from app.audio.screencapture_audio import ScreenCaptureAudioSource

        native = ScreenCaptureAudioSource(device)
        driver = loopback_driver(devices)
        return native if driver is None else FallbackSource(native, DeviceSource(driver))
    return DeviceSource(device)


def live_source(kind: str, microphone_id: str = "", system_id: str = "") -> AudioSource:
    """`kind` is microphone | system | both; AudioDeviceError names a missing device.
    Blocks while the devices are listed (pactl): call it in a worker thread."""
    listing = scan_devices()
    devices = listing.devices

    def pick(kind_: str, saved: str) -> CaptureDevice:
        device = find_device(saved, devices) if saved else None
        device = device or default_device(
            "microphone" if kind_ == "microphone" else "system", devices
        )
        if device is None:
            what = "microphone" if kind_ == "microphone" else "system-audio (monitor) source"
            why = f" ({listing.problem})" if listing.problem else ""
            hint = "check your sound settings" if kind_ == "microphone" else None
            hint = hint or missing_system_audio_hint()
            raise AudioDeviceError(what, f"no {what} found{why}; {hint}")
        return device

    if kind == "both":
        mic, system = pick("microphone", microphone_id), pick("system", system_id)
        # Linux: through the sound server's echo canceller when it has one.
        linux = sys.platform.startswith("linux")
        mic_side = EchoCancelledMicrophone(mic, system) if linux else DeviceSource(mic)
        return BothSource(mic_side, system_source(system, devices))
    if kind == "microphone":
        return DeviceSource(pick("microphone", microphone_id))
    return system_source(pick("system", system_id), devices)


async def find_live_source(kind: str, microphone_id: str = "", system_id: str = "") -> AudioSource:
    """`live_source` in a worker thread: pactl can take seconds to list the devices, and the
    event loop (the app's Qt loop) must keep turning meanwhile."""
    return await asyncio.to_thread(live_source, kind, microphone_id, system_id)
