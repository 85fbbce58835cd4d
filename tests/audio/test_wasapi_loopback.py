"""Windows system audio (WASAPI loopback through PyAudioWPatch), over a double of the library:
device choice, conversion to the app's blocks, following the default output, error paths."""

from __future__ import annotations

import asyncio
import ctypes
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from app.audio.base import Block, Dropout
from app.audio.devices import CaptureDevice
from app.audio.wasapi_loopback import (
    WasapiLoopbackSource,
    default_loopback,
    default_output_name,
    import_pyaudiowpatch,
    pick_loopback,
)
from app.errors import AudioDeviceError
from tests import fake_pyaudiowpatch
from tests.conftest import run
from tests.fake_clock import FakeClock
from tests.fake_pyaudiowpatch import FakeOutput, FakeWindows
from tests.waiting import until

SYSTEM = CaptureDevice("system:default", "System audio", "system", backend="wasapi-loopback")


def default_of(machine: FakeWindows) -> Callable[[], str | None]:
    """Windows' answer to "which output is the default now" (the MME probe's double)."""
    return lambda: machine.default


def loopback_of(machine: FakeWindows) -> Any:
    library = fake_pyaudiowpatch.module(machine)
    return default_loopback(library, library.PyAudio())


def test_the_default_outputs_own_loopback_is_chosen_not_one_with_the_same_prefix() -> None:
    machine = FakeWindows(
        outputs=[FakeOutput("Speakers 2 (USB)", 44100, 2), FakeOutput("Speakers", 48000, 6)],
        default="Speakers",
    )
    chosen = loopback_of(machine)
    assert (chosen.name, chosen.sample_rate, chosen.channels) == ("Speakers [Loopback]", 48000, 6)
    loopbacks = [{"name": "Speakers 2 (USB) [Loopback]"}, {"name": "Speakers [Loopback]"}]
    assert pick_loopback("Speakers", loopbacks) == {"name": "Speakers [Loopback]"}
    assert pick_loopback("Speakers 2", loopbacks) == {"name": "Speakers 2 (USB) [Loopback]"}
    assert pick_loopback("HDMI", loopbacks) is None


@pytest.mark.parametrize(
    ("machine", "says"),
    [
        (FakeWindows(wasapi=False), r"Windows audio \(WASAPI\) is not available"),
        (FakeWindows(default=None), "no default playback device"),
        (
            FakeWindows(outputs=[FakeOutput("HDMI", loopback=False)], default="HDMI"),
            "no loopback capture of HDMI",
        ),
    ],
)
def test_what_windows_lacks_is_named(machine: FakeWindows, says: str) -> None:
    with pytest.raises(AudioDeviceError, match=says) as caught:
        loopback_of(machine)
    assert caught.value.device == "System audio"


def test_without_the_library_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pyaudiowpatch", None)  # import fails as if not installed
    with pytest.raises(AudioDeviceError, match="pip install pyaudiowpatch"):
        import_pyaudiowpatch()
    source = WasapiLoopbackSource(SYSTEM)
    with pytest.raises(AudioDeviceError, match="pip install pyaudiowpatch"):
        run(source.start())


async def collect(source: WasapiLoopbackSource, into: list[Block]) -> None:
    async for block in source.blocks():
        into.append(block)


def frames(blocks: list[Block]) -> int:
    return sum(len(block) for block in blocks)


def test_48k_stereo_loopback_arrives_as_16k_mono(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = fake_pyaudiowpatch.install(monkeypatch, FakeWindows())
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(48000) / 48000)

    async def scenario() -> list[Block]:
        source = WasapiLoopbackSource(SYSTEM, default_output=default_of(machine))
        got: list[Block] = []
        await source.start()
        consumer = asyncio.create_task(collect(source, got))
        stream = machine.streams[-1]
        assert stream.kwargs["format"] == fake_pyaudiowpatch.PA_FLOAT32
        for chunk in np.array_split(np.stack([tone, tone], axis=1), 50):  # 20 ms callbacks
            stream.play(chunk)
        await until(lambda: frames(got) >= 15000, 5, "a second of audio")
        await source.stop()
        await consumer
        assert stream.closed and machine.alive == 0  # PortAudio terminated on stop
        return got

    got = run(scenario())
    audio = np.concatenate(got)
    assert audio.shape[1] == 1 and audio.dtype == np.float32
    assert 15500 <= len(audio) <= 16000
    assert float(np.max(np.abs(audio))) == pytest.approx(0.5, abs=0.01)


def test_a_quiet_loopback_is_filled_with_silence_as_the_clock_goes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    machine = fake_pyaudiowpatch.install(monkeypatch, FakeWindows())
    clock = FakeClock()

    async def scenario() -> tuple[list[Block], WasapiLoopbackSource]:
        source = WasapiLoopbackSource(SYSTEM, default_output=default_of(machine), clock=clock)
        source.tick_s = 0.005
        got: list[Block] = []
        await source.start()
        consumer = asyncio.create_task(collect(source, got))
        clock.set(2.1)  # nothing played for 2.1 s: WASAPI calls nothing back
        await until(lambda: frames(got) >= 32000, 5, "two seconds of silence")
        await source.stop()
        await consumer
        return got, source

    got, source = run(scenario())
    assert frames(got) == 32000  # (2.1 s - the 0.1 s allowance) at 16 kHz
    assert not np.any(np.concatenate(got))
    assert source.dropouts == []  # silence, not lost audio


def test_a_new_default_output_is_followed_with_the_gap_reported_as_a_dropout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    speakers = FakeOutput("Speakers (Realtek(R) Audio)", 16000, 1)
    headphones = FakeOutput("Headphones (USB)", 16000, 1)
    machine = fake_pyaudiowpatch.install(
        monkeypatch, FakeWindows(outputs=[speakers], default=speakers.name)
    )
    clock = FakeClock()

    async def scenario() -> tuple[list[Block], WasapiLoopbackSource]:
        source = WasapiLoopbackSource(SYSTEM, default_output=default_of(machine), clock=clock)
        source.tick_s = 0.005
        got: list[Block] = []
        await source.start()
        consumer = asyncio.create_task(collect(source, got))
        first = machine.streams[-1]
        for _ in range(10):  # the first second plays on the speakers
            clock.advance(0.1)
            first.play(np.full((1600, 1), 0.25))
        await until(lambda: frames(got) >= 16000, 5, "the speakers' second")
        machine.outputs.append(headphones)  # plugged in: Windows makes them the default
        machine.default = headphones.name
        machine.on_open = lambda: clock.advance(0.3)  # opening the new device takes 0.3 s
        clock.set(1.5)  # the watcher asks at 2 s; the speakers are quiet meanwhile
        await until(lambda: frames(got) >= 22400, 5, "silence up to 1.5 s")
        clock.set(2.0)
        await until(lambda: source.reopened == 1, 5, "the reopen on the headphones")
        second = machine.streams[-1]
        second.play(np.full((1600, 1), 0.5))
        await until(lambda: any(float(b[0, 0]) == 0.5 for b in got), 5, "the headphones")
        await source.stop()
        await consumer
        assert first.closed and second.closed
        assert (first.name, second.name) == (
            "Speakers (Realtek(R) Audio) [Loopback]",
            "Headphones (USB) [Loopback]",
        )
        assert machine.alive == 0  # each PortAudio was terminated before the next began
        return got, source

    got, source = run(scenario())
    audio = np.concatenate(got)[:, 0]
    # 1 s of speakers, silence to 1.9 s (less the 0.1 s allowance), a 0.3 s gap while the
    # headphones open, then the headphones.
    assert source.dropouts == [Dropout(30400, 4800)]
    assert len(audio) == 16000 + 14400 + 4800 + 1600
    assert np.all(audio[:16000] == 0.25) and not np.any(audio[16000:35200])
    assert np.all(audio[35200:] == 0.5)


def test_a_stream_that_stops_is_reopened_and_one_that_cannot_ends_the_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    machine = fake_pyaudiowpatch.install(monkeypatch, FakeWindows())
    clock = FakeClock()

    async def scenario() -> tuple[WasapiLoopbackSource, list[Block]]:
        source = WasapiLoopbackSource(SYSTEM, default_output=default_of(machine), clock=clock)
        source.tick_s = 0.005
        got: list[Block] = []
        await source.start()
        consumer = asyncio.create_task(collect(source, got))
        machine.streams[-1].unplug()  # the device went away; the default's name is the same
        clock.set(2.0)
        await until(lambda: source.reopened == 1, 5, "a reopen after the stream stopped")
        assert len(machine.streams) == 2 and machine.streams[0].closed
        machine.outputs.clear()  # every output gone: nothing to reopen on
        machine.default = None
        machine.streams[-1].unplug()
        for second in range(4, 40, 2):  # the watcher tries every 2 s, gives up after 30 s
            clock.set(float(second))
            at = float(second)
            await until(lambda at=at: source.checked_at == at, 5, f"the watch at {at} s")
            if source.failure:
                break
        await asyncio.wait_for(consumer, 5)  # the blocks ended by themselves
        await source.stop()
        return source, got

    source, _ = run(scenario())
    assert source.failure is not None
    assert "System audio stopped: Windows has no default playback device" in source.failure
    assert machine.alive == 0


class FakeFunction:
    """A DLL function: callable, with the argtypes ctypes lets a caller declare."""

    def __init__(self, call: Callable[..., int]) -> None:
        self.call = call
        self.argtypes: tuple[Any, ...] | None = None

    def __call__(self, *args: Any) -> int:
        return self.call(*args)


class FakeWinmm:
    """winmm's two calls as default_output_name makes them (ctypes arguments)."""

    def __init__(self, device: int, name: str, status: int = 0) -> None:
        self.device, self.name, self.status = device, name, status
        self.waveOutMessage = FakeFunction(self._message)
        self.waveOutGetDevCapsW = FakeFunction(self._caps)

    def _message(self, handle: Any, message: int, device_at: int, flags_at: int) -> int:
        assert handle.value == 0xFFFFFFFF and message == 0x2015  # the mapper's preferred one
        ctypes.c_uint32.from_address(device_at).value = self.device
        return self.status

    def _caps(self, device: int, caps: Any, size: int) -> int:
        assert device == self.device and size == ctypes.sizeof(caps._obj)
        caps._obj.szPname = self.name
        return 0


@pytest.mark.parametrize(("status", "expected"), [(0, "Headphones (USB)"), (2, None)])
def test_the_mme_probe_names_the_default_output(
    monkeypatch: pytest.MonkeyPatch, status: int, expected: str | None
) -> None:
    winmm = FakeWinmm(3, "Headphones (USB)", status)
    monkeypatch.setattr(ctypes, "WinDLL", lambda name: winmm, raising=False)
    assert default_output_name() == expected


def test_the_mme_probe_says_nothing_off_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(ctypes, "WinDLL", raising=False)
    assert default_output_name() is None
