"""The live source for a Start: the saved microphone and/or system-audio device, else the
system's default one."""

from __future__ import annotations

import asyncio

from app.audio.base import AudioSource
from app.audio.both import BothSource
from app.audio.capture import DeviceSource
from app.audio.devices import default_device, find_device, scan_devices
from app.errors import AudioDeviceError


def live_source(kind: str, microphone_id: str = "", system_id: str = "") -> AudioSource:
    """`kind` is microphone | system | both; AudioDeviceError names a missing device.
    Blocks while the devices are listed (pactl): call it in a worker thread."""
    listing = scan_devices()
    devices = listing.devices

    def pick(kind_: str, saved: str) -> DeviceSource:
        device = find_device(saved, devices) if saved else None
        device = device or default_device(
            "microphone" if kind_ == "microphone" else "system", devices
        )
        if device is None:
            what = "microphone" if kind_ == "microphone" else "system-audio (monitor) source"
            why = f" ({listing.problem})" if listing.problem else ""
            raise AudioDeviceError(what, f"no {what} found{why}; check your sound settings")
        return DeviceSource(device)

    if kind == "both":
        return BothSource(pick("microphone", microphone_id), pick("system", system_id))
    if kind == "microphone":
        return pick("microphone", microphone_id)
    return pick("system", system_id)


async def find_live_source(kind: str, microphone_id: str = "", system_id: str = "") -> AudioSource:
    """`live_source` in a worker thread: pactl can take seconds to list the devices, and the
    event loop (the app's Qt loop) must keep turning meanwhile."""
    return await asyncio.to_thread(live_source, kind, microphone_id, system_id)
