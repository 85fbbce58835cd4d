"""`captionist transcribe`: stream a file through the real WebSocket path and print captions."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from app.audio.file_source import DecodedAudio, read_audio
from app.client.streamer import StreamClient
from app.domain.export import ExportOptions, export
from app.domain.transcript import Transcript
from app.protocol.messages import Control, Metadata, Results, ServerMessage, Warning
from app.protocol.params import StreamParams
from app.protocol.pcm import chunk_bytes, encode_pcm

FRAME_S = 0.1  # about 100 ms a frame, as Deepgram recommends


@dataclass
class TranscribeOptions:
    audio: Path
    server: str | None = None
    token: str | None = None
    engine: str = "whisper"
    model: str = "tiny.en"
    realtime: bool = False
    fmt: str | None = None
    output: Path | None = None
    events: Path | None = None
    threads: int = 1


class LiveDisplay:
    """Finals on stdout, one line per utterance; interim text on a TTY status line."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.tty = out.isatty()
        self.line = ""  # finals of the open utterance
        self.shown = False

    def update(self, results: Results) -> None:
        if results.is_final:
            if results.transcript.strip():
                self.line = f"{self.line} {results.transcript.strip()}".strip()
            if results.speech_final:
                self.end_line()
            elif self.tty:
                self._status("")
        elif self.tty:
            self._status(results.transcript.strip())

    def _status(self, interim: str) -> None:
        grey = f" \x1b[2m{interim}\x1b[0m" if interim else ""
        self.out.write(f"\r\x1b[K{self.line}{grey}")
        self.out.flush()
        self.shown = True

    def end_line(self) -> None:
        if self.tty and self.shown:
            self.out.write("\r\x1b[K")
        if self.line:
            self.out.write(self.line + "\n")
        self.out.flush()
        self.line = ""
        self.shown = False


class EventLog:
    def __init__(self, path: Path | None) -> None:
        self.handle = path.open("w", encoding="utf-8") if path else None
        self.t0: float | None = None
        self.audio_sent = 0.0

    def started(self) -> None:
        self.t0 = time.monotonic()

    def write(self, raw: str) -> None:
        if self.handle is None:
            return
        t = time.monotonic() - self.t0 if self.t0 is not None else 0.0
        record: dict[str, Any] = {
            "t": round(t, 4),
            "audio_s": round(self.audio_sent, 4),
            "msg": json.loads(raw),
        }
        self.handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


async def stream_audio(
    audio: DecodedAudio,
    url: str,
    token: str | None,
    *,
    realtime: bool,
    events: EventLog,
    on_message: Any,
) -> Metadata | None:
    """Send the audio (paced or as fast as the socket takes it), then CloseStream."""
    params = StreamParams(sample_rate=audio.sample_rate)
    pcm = encode_pcm(audio.samples)
    step = chunk_bytes(audio.sample_rate, 1, FRAME_S)
    metadata: Metadata | None = None
    async with StreamClient(url, params, token=token) as client:

        async def send() -> None:
            events.started()
            t0 = time.monotonic()
            for offset in range(0, len(pcm), step):
                frame = pcm[offset : offset + step]
                if realtime:
                    due = t0 + offset / (2 * audio.sample_rate)
                    delay = due - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                await client.send_audio(frame)
                events.audio_sent = (offset + len(frame)) / (2 * audio.sample_rate)
            if realtime:  # the last frame covers audio up to its end, as a live source would
                delay = t0 + len(pcm) / (2 * audio.sample_rate) - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await client.send_control(Control.CLOSE_STREAM)

        sender = asyncio.create_task(send())
        try:
            async for raw, message in client.frames():
                events.write(raw)
                if isinstance(message, Metadata):
                    metadata = message
                if message is not None:
                    on_message(message)
            await sender
        finally:
            sender.cancel()
    return metadata


async def run_transcribe(options: TranscribeOptions, out: IO[str] = sys.stdout) -> int:
    audio = read_audio(options.audio)
    transcript = Transcript()
    # `--format` without `-o` prints the export, so live lines would only get in the way.
    export_to_stdout = options.fmt is not None and options.output is None
    display = LiveDisplay(sys.stderr if export_to_stdout else out)
    events = EventLog(options.events)

    def on_message(message: ServerMessage) -> None:
        if isinstance(message, Results):
            transcript.apply(message)
            display.update(message)
        elif isinstance(message, Warning):
            print(f"warning: {message.code}: {message.message}", file=sys.stderr)

    started = time.monotonic()
    try:
        if options.server:
            metadata = await stream_audio(
                audio,
                options.server,
                options.token,
                realtime=options.realtime,
                events=events,
                on_message=on_message,
            )
        else:
            from app.commands.embedded import embedded_server, load_engine

            engine = load_engine(
                options.engine,
                options.model,
                threads=options.threads,
            )
            try:
                async with embedded_server(engine) as (url, token):
                    metadata = await stream_audio(
                        audio,
                        url,
                        token,
                        realtime=options.realtime,
                        events=events,
                        on_message=on_message,
                    )
            finally:
                await engine.aclose()
    finally:
        display.end_line()
        events.close()
    elapsed = time.monotonic() - started
    if options.output is not None or export_to_stdout:
        fmt = options.fmt or (options.output.suffix.lstrip(".").lower() if options.output else "")
        text = export(
            transcript.utterances(),
            fmt or "txt",
            ExportOptions(labels=False, title=options.audio.stem),
        )
        if options.output is not None:
            options.output.write_text(text, encoding="utf-8")
        else:
            out.write(text)
    model = f"{metadata.engine} {metadata.model}" if metadata else "?"
    print(
        f"captioned {audio.duration:.1f} s of audio in {elapsed:.1f} s ({model})", file=sys.stderr
    )
    return 0
