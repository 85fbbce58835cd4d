"""Real capture from PulseAudio virtual devices through the whole stack: device -> service ->
client -> server -> real tiny.en engine -> transcript, for system audio, microphone and both."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import pytest

from app.audio.both import BothSource
from app.audio.capture import DeviceSource
from app.audio.devices import default_device, list_devices
from app.errors import AudioDeviceError
from app.server.engines.whisper import WhisperEngine
from app.server.server import ServerConfig, TranscriptionServer
from app.services.captioning import CaptionService
from tests.audio.pulse.conftest import SCRIPT
from tests.conftest import run
from tests.streaming import manifest, wer
from tests.waiting import until

pytestmark = [pytest.mark.audio, pytest.mark.model]
# Measured: paplay exits once its last sample is captured (within 0.02 s); this is slack.
CAPTURE_LATENCY_S = 0.5


def play(command: str, clip: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["bash", str(SCRIPT), command, str(clip)], env=os.environ.copy())


async def caption_while_playing(
    engine: WhisperEngine, source: object, playbacks: list[tuple[str, Path]]
) -> CaptionService:
    async with TranscriptionServer(engine, ServerConfig(port=0, token="t")) as server:
        service = CaptionService(server.url, token="t")
        task = asyncio.create_task(service.run(source))  # type: ignore[arg-type]
        sides = source.sides if isinstance(source, BothSource) else (source,)
        # PortAudio's first callback can take seconds: play only once both sides are live.
        await asyncio.wait_for(asyncio.gather(*(s.wait_first_block() for s in sides)), 10)
        live = time.monotonic()  # the stream's audio clock runs from here, in real time
        players = [play(command, clip) for command, clip in playbacks]
        for player in players:
            await asyncio.to_thread(player.wait, 120)
        # The last words are in once the service has sent the audio captured up to a moment
        # after the playback ended (capture latency; CPU load delays it further, and is waited).
        played_until = time.monotonic() - live + CAPTURE_LATENCY_S
        await until(
            lambda: service.figures.audio_sent_s >= played_until,
            30,
            f"{played_until:.1f} s of audio captured and sent",
        )
        service.request_stop()  # the server settles the tail before the run ends
        await task
        return service


@pytest.fixture(scope="module")
def clips(speech_dir: Path) -> dict[str, tuple[Path, str]]:
    items = manifest(speech_dir)
    return {
        key: (speech_dir / items[key]["audio"], items[key]["text_norm"])
        for key in ("pub_jfk_inaugural_01", "pub_librispeech_session_01")
    }


def test_system_audio_is_listed_and_captioned(
    virtual_audio: str, whisper_engine: WhisperEngine, clips: dict[str, tuple[Path, str]]
) -> None:
    device = default_device("system")
    assert device is not None and device.label == "System audio"
    assert device.pulse_source == "meeting.monitor"
    clip, reference = clips["pub_librispeech_session_01"]
    service = run(
        caption_while_playing(whisper_engine, DeviceSource(device), [("play", clip)]), timeout=240
    )
    assert wer(reference, service.transcript.text) <= 0.3, service.transcript.text
    assert {s.source for s in service.transcript.finals} == {"Others"}


def test_virtual_microphone_is_captioned(
    virtual_audio: str, whisper_engine: WhisperEngine, clips: dict[str, tuple[Path, str]]
) -> None:
    device = default_device("microphone")
    assert device is not None and device.pulse_source == "virtmic"
    clip, reference = clips["pub_jfk_inaugural_01"]
    service = run(
        caption_while_playing(whisper_engine, DeviceSource(device), [("feed-mic", clip)]),
        timeout=240,
    )
    assert wer(reference, service.transcript.text) <= 0.3, service.transcript.text
    assert {s.source for s in service.transcript.finals} == {"You"}


def test_both_mode_labels_each_source(
    virtual_audio: str, whisper_engine: WhisperEngine, clips: dict[str, tuple[Path, str]]
) -> None:
    mic, system = default_device("microphone"), default_device("system")
    assert mic is not None and system is not None
    mine, my_words = clips["pub_jfk_inaugural_01"]
    theirs, their_words = clips["pub_librispeech_session_01"]
    service = run(
        caption_while_playing(
            whisper_engine,
            BothSource(DeviceSource(mic), DeviceSource(system)),
            [("feed-mic", mine), ("play", theirs)],
        ),
        timeout=240,
    )
    by_source = {
        label: " ".join(s.text for s in service.transcript.finals if s.source == label)
        for label in ("You", "Others")
    }
    assert wer(my_words, by_source["You"]) <= 0.3, by_source
    assert wer(their_words, by_source["Others"]) <= 0.3, by_source


def test_a_missing_device_is_a_clear_error(virtual_audio: str) -> None:
    devices = list_devices()
    assert any(d.kind == "microphone" for d in devices)
    from app.audio.devices import CaptureDevice

    gone = CaptureDevice("pa:gone", "USB headset", "microphone", None, "No Such Device 42")

    async def scenario() -> None:
        await DeviceSource(gone).start()

    with pytest.raises(AudioDeviceError) as info:
        run(scenario())
    assert "USB headset" in str(info.value)


def test_both_mode_without_headphones_shows_the_others_once(
    virtual_audio: str,
    whisper_engine: WhisperEngine,
    clips: dict[str, tuple[Path, str]],
    tmp_path: Path,
) -> None:
    """Issue 13 item 1: the mic hears the loudspeakers (the call, a third as loud, 100 ms
    later). Each sentence shows once, as Others; the mic's copy is hidden and counted."""
    import numpy as np
    import soundfile

    mic, system = default_device("microphone"), default_device("system")
    assert mic is not None and system is not None
    theirs, their_words = clips["pub_jfk_inaugural_01"]
    audio, rate = soundfile.read(theirs, dtype="float32")
    echo = tmp_path / "echo.wav"
    delay = np.zeros(round(0.1 * rate), dtype=np.float32)
    soundfile.write(echo, np.concatenate([delay, audio / 3]), rate)
    service = run(
        caption_while_playing(
            whisper_engine,
            BothSource(DeviceSource(mic), DeviceSource(system)),
            [("play", theirs), ("feed-mic", echo)],
        ),
        timeout=240,
    )
    words = {
        label: " ".join(s.text for s in service.transcript.finals if s.source == label).split()
        for label in ("You", "Others")
    }
    assert wer(their_words, " ".join(words["Others"])) <= 0.3, words
    assert len(words["You"]) <= 0.05 * len(words["Others"]), words  # >= 95 % shown once
    assert service.figures.echoes_hidden >= 1
