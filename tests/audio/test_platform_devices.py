"""Which system-audio capture each system gets: the device list, the source a Start opens,
Both mode with the native capture, and `captionist devices` (unchanged on Linux)."""

from __future__ import annotations

import asyncio
import sys

import numpy as np
import pytest

from app.audio import devices
from app.audio.base import Block
from app.audio.both import BothSource
from app.audio.capture import DeviceSource
from app.audio.devices import CaptureDevice, default_device, native_system_audio, scan_devices
from app.audio.fallback import FallbackSource
from app.audio.live import live_source, system_source
from app.audio.screencapture_audio import ScreenCaptureAudioSource
from app.audio.wasapi_loopback import WasapiLoopbackSource
from app.commands.devices import run_devices
from app.errors import AudioDeviceError
from tests import fake_pyaudiowpatch, fake_sounddevice
from tests.conftest import run
from tests.fake_pyaudiowpatch import FakeWindows
from tests.waiting import until


def on(monkeypatch: pytest.MonkeyPatch, system: str, mac_release: str = "") -> None:
    monkeypatch.setattr(sys, "platform", system)
    monkeypatch.setattr(devices.platform, "mac_ver", lambda: (mac_release, ("", "", ""), ""))


@pytest.mark.parametrize(
    ("system", "release", "backend"),
    [
        ("win32", "", "wasapi-loopback"),
        ("darwin", "14.5", "screencapturekit"),
        ("darwin", "13.0", "screencapturekit"),
        ("darwin", "12.7.4", None),  # ScreenCaptureKit has no audio before 13
        ("linux", "", None),  # the sound server's monitor, as before
    ],
)
def test_the_native_system_audio_of_each_system(
    system: str, release: str, backend: str | None
) -> None:
    native = native_system_audio(system, release)
    assert (native.backend if native else None) == backend
    if native is not None:
        assert (native.id, native.label, native.kind) == (
            "system:default",
            "System audio",
            "system",
        )


def test_on_windows_the_loopback_is_the_default_system_audio(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on(monkeypatch, "win32")
    fake_sounddevice.install(monkeypatch, ["Microphone (Realtek(R) Audio)", "Stereo Mix (Realtek)"])
    listed = scan_devices().devices
    assert [(d.label, d.kind, d.backend) for d in listed] == [
        ("System audio", "system", "wasapi-loopback"),
        ("Microphone (Realtek(R) Audio)", "microphone", "portaudio"),
        ("Stereo Mix (Realtek)", "system", "portaudio"),  # still there to choose
    ]
    assert default_device("system", listed) == listed[0]
    assert isinstance(live_source("system"), WasapiLoopbackSource)
    chosen = live_source("system", system_id="pa:Stereo Mix (Realtek)")
    assert isinstance(chosen, DeviceSource) and chosen.device.label == "Stereo Mix (Realtek)"


def test_on_a_mac_blackhole_stands_in_for_screencapturekit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on(monkeypatch, "darwin", "14.5")
    fake_sounddevice.install(monkeypatch, ["MacBook Pro Microphone", "BlackHole 2ch"])
    source = live_source("system")
    assert isinstance(source, FallbackSource)
    native, driver = source.sources
    assert isinstance(native, ScreenCaptureAudioSource)
    assert isinstance(driver, DeviceSource) and driver.device.label == "BlackHole 2ch"
    fake_sounddevice.install(monkeypatch, ["MacBook Pro Microphone"])
    assert isinstance(live_source("system"), ScreenCaptureAudioSource)


def test_on_an_older_mac_without_a_loopback_driver_the_error_says_to_install_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on(monkeypatch, "darwin", "12.7")
    fake_sounddevice.install(monkeypatch, ["MacBook Pro Microphone"])
    with pytest.raises(AudioDeviceError, match="loopback driver such as BlackHole"):
        live_source("system")
    fake_sounddevice.install(monkeypatch, ["MacBook Pro Microphone", "BlackHole 16ch"])
    source = live_source("system")
    assert isinstance(source, DeviceSource) and source.device.label == "BlackHole 16ch"


def test_a_portaudio_device_is_captured_through_portaudio() -> None:
    monitor = CaptureDevice("system:default", "System audio", "system", "sink.monitor")
    assert type(system_source(monitor, [monitor])) is DeviceSource


def test_both_mode_on_windows_pairs_the_microphone_with_the_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on(monkeypatch, "win32")
    portaudio = fake_sounddevice.install(monkeypatch, ["Microphone (Realtek(R) Audio)"])
    machine = fake_pyaudiowpatch.install(monkeypatch, FakeWindows())

    async def scenario() -> list[Block]:
        source = live_source("both")
        assert isinstance(source, BothSource)
        mic, system = source.sides
        assert type(mic) is DeviceSource and isinstance(system, WasapiLoopbackSource)
        got: list[Block] = []

        async def collect() -> None:
            async for block in source.blocks():
                got.append(block)

        await source.start()
        consumer = asyncio.create_task(collect())
        for _ in range(10):
            portaudio.streams[-1].capture(np.full((1600, 1), 0.25, dtype=np.float32))
            machine.streams[-1].play(np.full((4800, 2), 0.5))  # 48 kHz stereo
        await until(lambda: sum(len(b) for b in got) >= 15000, 5, "a second of both")
        await source.stop()
        await consumer
        return got

    paired = np.concatenate(run(scenario()))
    assert paired.shape[1] == 2
    assert np.all(paired[:15000, 0] == 0.25)  # "You": the microphone
    assert paired[1000:15000, 1] == pytest.approx(0.5, abs=1e-3)  # "Others": the loopback


def test_captionist_devices_prints_on_linux_what_it_always_did(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    on(monkeypatch, "linux")
    fake_sounddevice.install(monkeypatch, ["pulse", "default"])
    assert run_devices() == 0
    assert capsys.readouterr().out == (
        "  0  pulse  (2 ch, 48000 Hz)\n  1  default  (2 ch, 48000 Hz)\n"
    )


def test_captionist_devices_names_the_native_capture_on_windows(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    on(monkeypatch, "win32")
    fake_sounddevice.install(monkeypatch, ["Microphone (Realtek(R) Audio)"])
    monkeypatch.setitem(sys.modules, "pyaudiowpatch", None)
    monkeypatch.setattr(devices.importlib.util, "find_spec", lambda name: None)
    assert run_devices() == 0
    assert capsys.readouterr().out.splitlines() == [
        "  -  System audio: what the default output plays (WASAPI loopback)"
        " [its library is not installed]",
        "  0  Microphone (Realtek(R) Audio)  (2 ch, 48000 Hz)",
    ]
