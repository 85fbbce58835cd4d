"""Helpers for end-to-end tests: stream audio to a server and collect what comes back."""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile

from app.client.streamer import StreamClient
from app.protocol.messages import Control, Results, ServerMessage
from app.protocol.params import StreamParams
from app.protocol.pcm import encode_pcm

if TYPE_CHECKING:
    from app.server.asr.labelling import Label
    from app.server.asr.settings import TranscriberConfig
    from app.server.engines.whisper import WhisperEngine


@dataclass(frozen=True)
class Received:
    t: float  # seconds since the first frame was sent
    audio_s: float  # audio sent by then
    message: ServerMessage


def load(path: Path) -> np.ndarray:
    audio, rate = soundfile.read(str(path), dtype="float32")
    assert rate == 16000
    return np.asarray(audio, dtype=np.float32)


def manifest(speech_dir: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    return {
        json.loads(line)["id"]: json.loads(line)
        for line in (speech_dir / "manifest.jsonl").read_text().splitlines()
    }


def norm(text: str) -> str:
    text = re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " "))
    return " ".join(text.split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(norm(reference), norm(hypothesis) or "<empty>"))


def lost_and_added(reference: str, hypothesis: str) -> tuple[int, int]:
    """Words of `reference` missing from `hypothesis`, and words it has that were never said,
    after alignment: a misheard word is neither, so this tells speech lost or doubled apart
    from recognition errors."""
    import jiwer

    alignment = jiwer.process_words(norm(reference), norm(hypothesis) or "<empty>")
    return alignment.deletions, alignment.insertions


async def stream(
    url: str,
    audio: np.ndarray,
    *,
    sample_rate: int = 16000,
    speed: float | None = None,
    token: str | None = None,
    frame_s: float = 0.1,
    **params: object,
) -> list[Received]:
    """Send `audio` ((n,) or (n, 2)) in frames, paced at `speed` x real time (None: at once)."""
    channels = 1 if audio.ndim == 1 else audio.shape[1]
    stream_params = StreamParams(
        sample_rate=sample_rate,
        channels=channels,
        multichannel=channels > 1,
        **params,  # type: ignore[arg-type]
    )
    step = int(sample_rate * frame_s)
    received: list[Received] = []
    sent = 0.0
    async with StreamClient(url, stream_params, token=token) as client:
        t0 = time.monotonic()

        async def send() -> None:
            nonlocal sent
            for offset in range(0, len(audio), step):
                if speed:
                    delay = t0 + offset / sample_rate / speed - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                await client.send_audio(encode_pcm(audio[offset : offset + step]))
                sent = min(len(audio), offset + step) / sample_rate
            await client.send_control(Control.CLOSE_STREAM)

        sender = asyncio.create_task(send())
        async for message in client.messages():
            received.append(Received(time.monotonic() - t0, sent, message))
        await sender
    return received


def finals(received: list[Received], channel: int | None = None) -> list[Results]:
    return [
        r.message
        for r in received
        if isinstance(r.message, Results)
        and r.message.is_final
        and (channel is None or r.message.channel == channel)
    ]


def final_text(received: list[Received], channel: int | None = None) -> str:
    return " ".join(f.transcript for f in finals(received, channel) if f.transcript)


async def stepped_messages(
    engine: WhisperEngine,
    audio: np.ndarray,
    *,
    tuning: TranscriberConfig | None = None,
    beam_size: int | None = None,
    frame_s: float = 0.1,
    label: Label | None = None,
) -> list[tuple[float, ServerMessage]]:
    """The real engine's streaming transcriber, stepped through `audio` frame by frame.

    Each frame is processed to the end before the next arrives: every decode real-time pacing
    would run on a machine fast enough to keep up, but deterministic and as fast as the CPU
    allows. `tuning` and `beam_size` replace the engine's own settings. Each message comes
    with the seconds of audio processed when it was emitted.
    """
    from app.server.asr.decoder import BEAM_SIZE
    from app.server.asr.silero_net import SileroNet
    from app.server.asr.transcriber import ChannelTranscriber
    from app.server.asr.vad import StreamingVad

    vad = StreamingVad(SileroNet.shared())
    emitted: list[tuple[float, ServerMessage]] = []
    position = 0.0

    async def run_vad(chunk: np.ndarray) -> np.ndarray:
        return vad.process(chunk)

    async def decode(chunk: np.ndarray, prompt: str, prefix: str, beam: int | None):  # type: ignore[no-untyped-def]
        beam = beam or (BEAM_SIZE if beam_size is None else beam_size)  # an interim's own first
        return engine.decoder.decode(chunk, prompt=prompt, prefix=prefix, beam_size=beam)

    transcriber = ChannelTranscriber(
        tuning or engine.tuning,
        decode=decode,
        run_vad=run_vad,
        emit=lambda message: emitted.append((position, message)),
        label=label,
    )
    step = int(16000 * frame_s)
    for offset in range(0, len(audio), step):
        position = min(len(audio), offset + step) / 16000
        await transcriber._process(audio[offset : offset + step])
    await transcriber._end_utterance(from_finalize=False)
    return emitted


async def transcribe_in_order(
    engine: WhisperEngine,
    audio: np.ndarray,
    *,
    tuning: TranscriberConfig | None = None,
    beam_size: int | None = None,
    frame_s: float = 0.1,
) -> str:
    """The finals' text of `stepped_messages`."""
    messages = await stepped_messages(
        engine, audio, tuning=tuning, beam_size=beam_size, frame_s=frame_s
    )
    return " ".join(
        m.transcript for _, m in messages if isinstance(m, Results) and m.is_final and m.transcript
    )
