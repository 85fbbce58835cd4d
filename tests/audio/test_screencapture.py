"""macOS system audio (ScreenCaptureKit through pyobjc), over a double of the modules: the
stream asked for, sample buffers as the app's blocks, the permission and library errors, a
capture the system stops, and the BlackHole fallback."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import numpy as np
import pytest

from app.audio.base import Block
from app.audio.capture import DeviceSource
from app.audio.devices import CaptureDevice
from app.audio.fallback import FallbackSource
from app.audio.pcm_blocks import PcmFormat
from app.audio.screencapture_audio import (
    PERMISSION_PLACE,
    ScreenCaptureAudioSource,
    capture_error,
    format_from_description,
)
from app.errors import AudioDeviceError
from tests import fake_screencapturekit, fake_sounddevice
from tests.conftest import run
from tests.fake_clock import FakeClock
from tests.fake_screencapturekit import FakeMac
from tests.waiting import until

SYSTEM = CaptureDevice("system:default", "System audio", "system", backend="screencapturekit")
BLACKHOLE = CaptureDevice("pa:BlackHole 2ch", "BlackHole 2ch", "system", None, "BlackHole 2ch")


def test_a_declined_permission_says_where_to_grant_it_and_names_the_fallback() -> None:
    error = capture_error(-3801, "The user declined TCCs for application")
    assert error.device == "System audio"
    assert PERMISSION_PLACE in error.reason
    assert PERMISSION_PLACE == (
        "System Settings → Privacy & Security → Screen & System Audio Recording"
    )
    assert "BlackHole" in error.reason
    other = capture_error(-3818, "Failed to start audio capture")
    assert "Failed to start audio capture, error -3818" in other.reason
    assert "BlackHole" in other.reason and PERMISSION_PLACE not in other.reason


def test_the_sample_buffers_format_is_read_from_its_description() -> None:
    assert format_from_description(48000.0, 2, 1 | 32, 32) == PcmFormat(48000, 2, "float32", True)
    assert format_from_description(44100.0, 2, 0b1100, 16) == PcmFormat(44100, 2, "int16")
    assert format_from_description(48000.0, 1, 0, 24) is None  # 24-bit: the configured one
    assert format_from_description(48000.0, 1, 1, 64) is None


def test_without_pyobjc_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ScreenCaptureKit", None)
    with pytest.raises(AudioDeviceError, match="pip install pyobjc-framework-ScreenCaptureKit"):
        run(ScreenCaptureAudioSource(SYSTEM).start())


def test_without_the_permission_the_start_fails_saying_where_to_grant_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_screencapturekit.install(monkeypatch, FakeMac(permission=False))
    with pytest.raises(AudioDeviceError, match="Screen & System Audio Recording"):
        run(ScreenCaptureAudioSource(SYSTEM).start())


async def collect(source: Any, into: list[Block]) -> None:
    async for block in source.blocks():
        into.append(block)


def frames(blocks: list[Block]) -> int:
    return sum(len(block) for block in blocks)


def test_the_macs_audio_arrives_as_16k_mono_without_the_apps_own_sound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mac = fake_screencapturekit.install(monkeypatch, FakeMac(displays=["main", "second"]))
    t = np.arange(48000) / 48000
    left, right = 0.4 * np.sin(2 * np.pi * 300 * t), 0.2 * np.sin(2 * np.pi * 300 * t)

    async def scenario() -> list[Block]:
        source = ScreenCaptureAudioSource(SYSTEM)
        got: list[Block] = []
        await source.start()
        consumer = asyncio.create_task(collect(source, got))
        stream = mac.streams[-1]
        for chunk in np.array_split(np.stack([left, right], axis=1), 50):
            stream.play(chunk)  # planar float32 stereo, as ScreenCaptureKit delivers it
        await until(lambda: frames(got) >= 15000, 5, "a second of audio")
        await source.stop()
        await consumer
        assert stream.filter.display == "main" and stream.filter.windows == []
        assert stream.config.values == {
            "capturesAudio": True,
            "excludesCurrentProcessAudio": True,
            "sampleRate": 48000,
            "channelCount": 1,
            "width": 2,
            "height": 2,
            "minimumFrameInterval": (1, 1),
        }
        assert [kind for _, kind, _ in stream.outputs] == [1]  # audio only
        assert mac.stopped == 1
        return got

    audio = np.concatenate(run(scenario()))
    assert audio.shape[1] == 1 and audio.dtype == np.float32
    assert 15500 <= len(audio) <= 16000
    assert float(np.max(np.abs(audio))) == pytest.approx(0.3, abs=0.01)  # (0.4 + 0.2) / 2


def test_a_buffer_without_a_readable_description_is_taken_as_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mac = fake_screencapturekit.install(monkeypatch, FakeMac())

    async def scenario() -> list[Block]:
        source = ScreenCaptureAudioSource(SYSTEM)
        got: list[Block] = []
        await source.start()
        consumer = asyncio.create_task(collect(source, got))
        data = np.full(4800, 0.25, dtype="<f4").tobytes()
        buffer = fake_screencapturekit.FakeSampleBuffer(data, None)
        for _ in range(10):
            mac.streams[-1].deliver(buffer, fake_screencapturekit.OUTPUT_AUDIO)
        await until(lambda: frames(got) >= 15000, 5, "the buffers")
        await source.stop()
        await consumer
        return got

    audio = np.concatenate(run(scenario()))[:, 0]
    assert 15500 <= len(audio) <= 16000  # 48 kHz mono assumed: a second
    assert audio[2000:15000] == pytest.approx(0.25, abs=1e-3)


def test_a_capture_the_system_stops_is_started_again(monkeypatch: pytest.MonkeyPatch) -> None:
    mac = fake_screencapturekit.install(monkeypatch, FakeMac())
    clock = FakeClock()

    async def scenario() -> ScreenCaptureAudioSource:
        source = ScreenCaptureAudioSource(SYSTEM, clock=clock)
        source.tick_s = 0.005
        got: list[Block] = []
        await source.start()
        consumer = asyncio.create_task(collect(source, got))
        mac.streams[-1].system_stops()
        clock.set(2.0)
        await until(lambda: source.reopened == 1, 5, "the capture started again")
        assert len(mac.streams) == 2 and mac.streams[-1].capturing
        await source.stop()
        await consumer
        return source

    source = run(scenario())
    assert source.failure is None


def test_without_the_permission_an_installed_blackhole_is_captured_instead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_screencapturekit.install(monkeypatch, FakeMac(permission=False))
    portaudio = fake_sounddevice.install(monkeypatch, ["BlackHole 2ch"])

    async def scenario() -> tuple[FallbackSource, list[Block]]:
        source = FallbackSource(ScreenCaptureAudioSource(SYSTEM), DeviceSource(BLACKHOLE))
        got: list[Block] = []
        await source.start()
        consumer = asyncio.create_task(collect(source, got))
        portaudio.streams[-1].capture(np.full((1600, 1), 0.5, dtype=np.float32))
        await until(lambda: frames(got) >= 1600, 5, "BlackHole's audio")
        await source.stop()
        await consumer
        return source, got

    source, got = run(scenario())
    assert source.info.label == "BlackHole 2ch"
    assert "Screen & System Audio Recording" in source.notice
    assert portaudio.streams[-1].kwargs["device"] == "BlackHole 2ch"
    assert float(got[0][0, 0]) == 0.5
