"""How much of a CPU a model needs to caption live: the real transcriber over a short recording.

The recording is fed one frame at a time and each frame is processed to the end before the
next (VAD, interim and final decodes, exactly the work live captioning asks for), so the
wall-clock time of the whole run is the time that work takes on this computer. The run stops
as soon as the answer is clear: once it has taken longer than `give_up_above` seconds per
second of the whole recording, the model cannot be fast enough. The process's CPU time is
taken too: far less CPU than wall-clock time means other programs held the cores meanwhile.

It runs on its own thread with its own event loop: callers may be inside a loop, or be one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from app.protocol.pcm import FloatArray
from app.server.asr.decoder import Decoding
from app.server.asr.settings import TranscriberConfig
from app.server.asr.silero_net import SileroNet
from app.server.asr.transcriber import ChannelTranscriber
from app.server.asr.vad import WINDOW as VAD_WINDOW
from app.server.asr.vad import StreamingVad

RATE = 16000
FRAME_S = 0.1  # what a live client sends at a time
SyncDecode = Callable[[FloatArray, str, str, int | None], Decoding]  # ..., beam size
# A run that got less CPU than this share of its wall-clock time waited for other programs.
BUSY_CPU_SHARE = 0.75
SPEECH = 0.5  # VAD probability counted as speech


@dataclass(frozen=True)
class ProbeResult:
    seconds_per_audio_s: float  # wall-clock seconds of work per second of audio
    audio_s: float  # audio processed (less than the recording when the run stopped early)
    wall_s: float
    stopped_early: bool
    cpu_s: float = 0.0  # this process's CPU time meanwhile (all threads)
    speech_s: float = 0.0  # of `audio_s`, what the VAD heard as speech

    @property
    def seconds_per_speech_s(self) -> float:
        """Work per second of speech: what continuous talk, as in a meeting, asks for. (The
        sample has pauses; per audio second it looks cheaper than a meeting is.)"""
        return self.wall_s / self.speech_s if self.speech_s > 0 else self.seconds_per_audio_s

    @property
    def disturbed(self) -> bool:
        """Whether the run got clearly less than one core: other programs were busy."""
        return self.cpu_s < BUSY_CPU_SHARE * self.wall_s


def measure_streaming_cost(
    decode: SyncDecode,
    audio: FloatArray,
    config: TranscriberConfig,
    *,
    give_up_above: float,
    clock: Callable[[], float] = time.perf_counter,
    cpu_clock: Callable[[], float] = time.process_time,
) -> ProbeResult:
    """Stream `audio` (16 kHz mono) through a ChannelTranscriber decoding with `decode`."""
    with ThreadPoolExecutor(1, thread_name_prefix="cpu-probe") as thread:
        cpu_started = cpu_clock()
        run = thread.submit(asyncio.run, _stream(decode, audio, config, give_up_above, clock))
        result = run.result()
        return replace(result, cpu_s=cpu_clock() - cpu_started)


async def _stream(
    decode: SyncDecode,
    audio: FloatArray,
    config: TranscriberConfig,
    give_up_above: float,
    clock: Callable[[], float],
) -> ProbeResult:
    vad = StreamingVad(SileroNet.shared())
    calls = 0  # work done by the transcriber: each frame must finish all of its own
    speech_s = 0.0

    async def run_vad(chunk: FloatArray) -> FloatArray:
        nonlocal calls, speech_s
        calls += 1
        probabilities = vad.process(chunk)
        speech_s += float(np.count_nonzero(probabilities >= SPEECH)) * VAD_WINDOW / RATE
        return probabilities

    async def run_decode(chunk: FloatArray, prompt: str, prefix: str, beam: int | None) -> Decoding:
        nonlocal calls
        calls += 1
        return decode(chunk, prompt, prefix, beam)

    transcriber = ChannelTranscriber(config, decode=run_decode, run_vad=run_vad, emit=_drop)
    task = transcriber.start()

    async def processed() -> None:
        """Until the transcriber has taken the frame and nothing more happens: the callbacks
        never suspend, so it runs a frame's work in one go once it wakes up."""
        seen = -1
        while transcriber.backlog_s > 0 or seen != calls:
            seen = calls
            await asyncio.sleep(0)
            if task.done():
                task.result()  # a failed decode fails the probe
                return

    budget_s = give_up_above * len(audio) / RATE
    step = round(FRAME_S * RATE)
    done = 0
    started = clock()
    for offset in range(0, len(audio), step):
        frame = audio[offset : offset + step]
        transcriber.feed(frame)
        await processed()
        done += len(frame)
        if clock() - started > budget_s and done < len(audio):
            transcriber.abort()
            wall = clock() - started
            return ProbeResult(
                wall / (done / RATE), done / RATE, wall, stopped_early=True, speech_s=speech_s
            )
    await transcriber.close()  # the last utterance's final
    wall = clock() - started
    return ProbeResult(
        wall / (done / RATE), done / RATE, wall, stopped_early=False, speech_s=speech_s
    )


def _drop(message: object) -> None:
    return None
