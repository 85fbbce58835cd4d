"""Both mode through the sound server's echo canceller (PulseAudio `module-echo-cancel`, WebRTC),
on the virtual devices of tools/virtual-audio.sh: loaded for the session with our
names and masters, the call routed through it, everything put back after stop (or after a
crash, at the next start), and the echo gone from the microphone's channel."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.audio import echo_cancel
from app.audio.base import Block
from app.audio.both import BothSource
from app.audio.echo_cancel import GUARD_ONLY, SERVER_AEC
from app.audio.live import live_source
from app.server.engines.whisper import WhisperEngine
from app.server.server import ServerConfig, TranscriptionServer
from app.services.captioning import CaptionService
from tests.conftest import ROOT, run
from tests.streaming import manifest, wer
from tests.waiting import until, wait_until

pytestmark = [pytest.mark.audio]
OURS = f"captionist_echo_cancel_{os.getpid()}_"
CAPTURE_LATENCY_S = 0.5  # as in test_capture_e2e.py


def pactl(*args: str) -> str:
    done = subprocess.run(
        ["pactl", *args],
        capture_output=True,
        text=True,
        timeout=10,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def echo_cancel_modules(owner: str = "captionist_echo_cancel_") -> list[str]:
    return [
        line
        for line in pactl("list", "short", "modules").splitlines()
        if "module-echo-cancel" in line and owner in line
    ]


def default_sink() -> str:
    return pactl("get-default-sink").strip()


def sink_of_process(pid: int) -> str | None:
    """The sink a process plays on (its sink input's), by name; None while it plays nothing."""
    names = {
        int(fields[0]): fields[1]
        for fields in (line.split("\t") for line in pactl("list", "short", "sinks").splitlines())
    }
    sink: int | None = None
    for line in pactl("list", "sink-inputs").splitlines():
        line = line.strip()
        if line.startswith("Sink:"):
            sink = int(line.split()[1])
        elif line == f'application.process.id = "{pid}"' and sink is not None:
            return names.get(sink)
    return None


@pytest.fixture
def call_playing(virtual_audio: str, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A call already playing on the speakers ("meeting") when Start is pressed."""
    import soundfile

    tone = tmp_path / "call.wav"
    seconds = np.arange(60 * 16000, dtype=np.float32) / 16000
    soundfile.write(tone, 0.05 * np.sin(2 * np.pi * 440 * seconds), 16000)
    player = subprocess.Popen(["paplay", "--device=meeting", str(tone)])
    try:
        wait_until(lambda: sink_of_process(player.pid) == "meeting", 10, "the call playing")
        yield player
    finally:
        player.kill()
        player.wait()


@pytest.fixture
def no_echo_canceller_left(virtual_audio: str) -> Iterator[None]:
    """Other tests share this sound server: whatever a test leaves loaded fails it here (and
    is cleared, so the next test starts clean)."""
    yield
    left, default = echo_cancel_modules(), default_sink()
    if default != "meeting":
        pactl("set-default-sink", "meeting")
    for module in left:
        pactl("unload-module", module.split("\t")[0])
    assert left == []
    assert default == "meeting"


def names_in(module: str) -> tuple[str, str]:
    """The source and sink names a loaded module-echo-cancel line gives."""
    found = dict(re.findall(r"(source_name|sink_name)=(\S+)", module))
    return found["source_name"], found["sink_name"]


def test_a_both_session_loads_the_echo_canceller_and_stop_puts_everything_back(
    no_echo_canceller_left: None, call_playing: subprocess.Popen[bytes]
) -> None:
    async def scenario() -> None:
        source = await asyncio.to_thread(live_source, "both")
        assert isinstance(source, BothSource)
        await source.start()
        try:
            [module] = await asyncio.to_thread(echo_cancel_modules, OURS)
            assert 'source_master="virtmic"' in module
            assert 'sink_master="meeting"' in module
            assert "aec_method=webrtc" in module
            source_name, sink_name = names_in(module)
            assert source_name.startswith(OURS) and sink_name.startswith(OURS)
            assert source.echo_cancelling == SERVER_AEC
            assert source.sides[0].device.pulse_source == source_name
            assert source.sides[1].device.pulse_source == "meeting.monitor"
            # The canceller hears what its sink plays: the call goes through it, and so does
            # a call started later (the default output).
            assert await asyncio.to_thread(default_sink) == sink_name
            assert await asyncio.to_thread(sink_of_process, call_playing.pid) == sink_name
        finally:
            await source.stop()
        assert await asyncio.to_thread(echo_cancel_modules, OURS) == []
        assert await asyncio.to_thread(default_sink) == "meeting"
        assert await asyncio.to_thread(sink_of_process, call_playing.pid) == "meeting"

    run(scenario())


def test_without_the_webrtc_canceller_both_mode_uses_the_plain_microphone(
    no_echo_canceller_left: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sound server whose module-echo-cancel lacks WebRTC refuses the load: the session
    goes on with the microphone itself, and says the transcript guard is all there is."""
    monkeypatch.setattr(echo_cancel, "AEC_METHOD", "no_such_canceller")

    async def scenario() -> None:
        source = await asyncio.to_thread(live_source, "both")
        assert isinstance(source, BothSource)
        await source.start()
        try:
            assert source.echo_cancelling == GUARD_ONLY
            assert source.sides[0].device.pulse_source == "virtmic"
            assert await asyncio.to_thread(echo_cancel_modules) == []
        finally:
            await source.stop()

    run(scenario())


def test_a_crashed_sessions_echo_canceller_is_removed_at_the_next_start(
    no_echo_canceller_left: None, call_playing: subprocess.Popen[bytes]
) -> None:
    """A process killed mid-session leaves its module loaded and the call routed through it;
    the next Both session removes it (its pid is dead) and puts the routing back first."""
    crash = (
        "import os, signal\n"
        "from app.audio.echo_cancel import engage\n"
        "assert engage('virtmic', 'meeting.monitor') is not None\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", crash], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert child.wait(30) == -signal.SIGKILL
    theirs = f"captionist_echo_cancel_{child.pid}_"
    [stale] = echo_cancel_modules(theirs)
    _, stale_sink = names_in(stale)
    assert default_sink() == stale_sink
    assert sink_of_process(call_playing.pid) == stale_sink

    async def scenario() -> None:
        source = await asyncio.to_thread(live_source, "both")
        assert isinstance(source, BothSource)
        await source.start()
        try:
            assert await asyncio.to_thread(echo_cancel_modules, theirs) == []
            [module] = await asyncio.to_thread(echo_cancel_modules, OURS)
            _, sink_name = names_in(module)
            assert await asyncio.to_thread(default_sink) == sink_name
            assert await asyncio.to_thread(sink_of_process, call_playing.pid) == sink_name
        finally:
            await source.stop()

    run(scenario())


class EnergyTap:
    """The source as the service sees it, adding up each channel's energy per second (a
    block counts in the second it starts in)."""

    def __init__(self, source: BothSource) -> None:
        self.source = source
        self.seconds: list[np.ndarray] = []  # per second of audio: each channel's energy
        self._frames = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)

    async def blocks(self) -> AsyncIterator[Block]:
        rate = self.source.info.sample_rate
        async for block in self.source.blocks():
            energy = np.sum(np.square(block.astype(np.float64)), axis=0)
            second = self._frames // rate
            self._frames += len(block)
            while len(self.seconds) <= second:
                self.seconds.append(np.zeros(2))
            self.seconds[second] += energy
            yield block

    def call_decibels(self) -> list[float]:
        """The mic's level under the others', second by second, while the others speak."""
        speaking = [(mic, others) for mic, others in self.seconds if others > 1]
        return [10 * np.log10(max(mic, 1e-12) / others) for mic, others in speaking]

    def decibels(self) -> str:
        return " ".join(f"{db:.0f}" for db in self.call_decibels())


@pytest.fixture
def loudspeakers_heard_by_the_mic(virtual_audio: str) -> Iterator[None]:
    """The room: what the speakers ("meeting") play reaches the microphone 100 ms later at a
    third of its amplitude (PulseAudio volumes are cubic: 69 % is 0.33)."""
    index = pactl(
        "load-module",
        "module-loopback",
        "source=meeting.monitor",
        "sink=virtmic_feed",
        "latency_msec=100",
        "source_dont_move=1",
        "sink_dont_move=1",
    ).strip()
    try:
        stream = wait_until(
            lambda: next(
                (
                    block.split()[0].lstrip("#")
                    for block in ("\n" + pactl("list", "sink-inputs")).split("\nSink Input ")[1:]
                    if f"Owner Module: {index}" in block
                ),
                None,
            ),
            10,
            "the room's loopback stream",
        )
        pactl("set-sink-input-volume", stream, "69%")
        yield
    finally:
        pactl("unload-module", index)


def test_the_echo_cancelled_microphone_does_not_hear_the_call(
    no_echo_canceller_left: None,
    loudspeakers_heard_by_the_mic: None,
    whisper_engine: WhisperEngine,
    speech_dir: Path,
) -> None:
    """The call played to the speakers (the default output, so through the canceller) reaches
    the mic a third as loud and 100 ms later: the mic's channel keeps under a tenth of that
    echo (20 dB less), and each sentence shows once, as Others, with nothing for the guard."""
    item = manifest(speech_dir)["pub_jfk_inaugural_01"]
    clip, reference = speech_dir / item["audio"], item["text_norm"]

    async def scenario() -> tuple[CaptionService, EnergyTap]:
        both = await asyncio.to_thread(live_source, "both")
        assert isinstance(both, BothSource)
        tap = EnergyTap(both)
        async with TranscriptionServer(whisper_engine, ServerConfig(port=0, token="t")) as server:
            service = CaptionService(server.url, token="t")
            task = asyncio.create_task(service.run(tap))  # type: ignore[arg-type]
            sides = both.sides
            await asyncio.wait_for(asyncio.gather(*(s.wait_first_block() for s in sides)), 10)
            live = time.monotonic()
            player = await asyncio.create_subprocess_exec("paplay", str(clip))
            await asyncio.wait_for(player.wait(), 120)
            played_until = time.monotonic() - live + CAPTURE_LATENCY_S
            await until(lambda: service.figures.audio_sent_s >= played_until, 30, "all sent")
            service.request_stop()
            await task
            return service, tap

    service, tap = run(scenario(), timeout=240)
    assert service.figures.echo_cancelling == SERVER_AEC
    # The canceller adapts in the first seconds of the call (measured: 10 to 40 dB then), and
    # a resync under load can let a second through; most seconds after the first two keep
    # under a tenth of the echo's amplitude (it is a third of the others': 29.5 dB under them).
    assert np.median(tap.call_decibels()[2:]) <= -29.5, tap.decibels()
    words = {
        label: " ".join(s.text for s in service.transcript.finals if s.source == label).split()
        for label in ("You", "Others")
    }
    assert wer(reference, " ".join(words["Others"])) <= 0.3, words
    assert len(words["You"]) <= 0.05 * len(words["Others"]), words
    assert service.figures.echoes_hidden == 0, "the canceller, not the guard, kept it out"
