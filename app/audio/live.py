"""The live source for a Start: the saved microphone and/or system-audio device, else the
system's default one."""

from __future__ import annotations

from app.audio.base import AudioSource
from app.audio.both import BothSource
from app.audio.capture import DeviceSource
from app.audio.devices import default_device, find_device, list_devices
from app.errors import AudioDeviceError


def live_source(kind: str, microphone_id: str = "", system_id: str = "") -> AudioSource:
    """`kind` is microphone | system | both; AudioDeviceError names a missing device."""
    devices = list_devices()

    def pick(kind_: str, saved: str) -> DeviceSource:
        device = find_device(saved, devices) if saved else None
        device = device or default_device(
            "microphone" if kind_ == "microphone" else "system", devices
        )
        if device is None:
            what = "microphone" if kind_ == "microphone" else "system-audio (monitor) source"
            raise AudioDeviceError(what, f"no {what} found; check your sound settings")
        return DeviceSource(device)

    if kind == "both":
        return BothSource(pick("microphone", microphone_id), pick("system", system_id))
    if kind == "microphone":
        return pick("microphone", microphone_id)
    return pick("system", system_id)
