"""`captionist transcribe`: stream a file through the real WebSocket path and print captions."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from app.audio.file_source import DecodedAudio, read_audio
from app.client.lifecycle import LinkConfig, LinkState, ReconnectingStream
from app.client.ring import UNSETTLED, Gap
from app.domain.export import FORMATS, ExportOptions, export
from app.domain.transcript import Transcript
from app.errors import ConfigError
from app.protocol.messages import Metadata, Results, ServerMessage, Warning, live_engine_of
from app.protocol.params import StreamParams, clean_keyterms
from app.protocol.pcm import chunk_bytes, encode_pcm
from app.server.engines import DEFAULT_THREADS

FRAME_S = 0.1  # about 100 ms a frame, as Deepgram recommends
FILE_AHEAD_S = 5.0  # how far a file may run ahead of what the server has taken
# A server that is down at the start is most likely a wrong URL: say so at once. Once
# streaming, ride out outages for up to two minutes.
# A file waits for the server to settle all but the last minute it sent (a replay covers
# that), well beyond the ~28 s of open speech after which the server always settles.
CLI_LINK = LinkConfig(first_connect_give_up_s=0.0, give_up_after_s=120.0, replay_cover_s=60.0)


@dataclass
class StreamOutcome:
    stream: ReconnectingStream = field(init=False)
    metadata: Metadata | None = None
    gaps: list[Gap] = field(default_factory=list)


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
    threads: int = DEFAULT_THREADS
    deepgram_url: str | None = None
    failover: bool = True
    keyterms: tuple[str, ...] = ()  # words to favour, sent in the handshake
    diarize: bool = False  # ask for a `speaker` on each word (Deepgram's diarize=true)
    max_speakers: int | None = None  # with diarize: the expected number of speakers


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
    on_message: Callable[[ServerMessage], None],
    link: LinkConfig | None = None,
    status: IO[str] = sys.stderr,
    keyterms: tuple[str, ...] = (),
    diarize: bool = False,
    max_speakers: int | None = None,
) -> StreamOutcome:
    """Send the audio (paced, or as fast as the server keeps up), then CloseStream.

    The stream survives lost connections (see ReconnectingStream); its states go to `status`.
    """
    params = StreamParams(
        sample_rate=audio.sample_rate,
        keyterms=keyterms,
        diarize=diarize,
        max_speakers=max_speakers,
    )
    outcome = StreamOutcome()

    def on_state(state: LinkState, detail: str) -> None:
        if state is LinkState.FAILED:
            return  # the command's error line says why
        if state is LinkState.RECONNECTING:
            print(f"captionist: {state.value}{': ' + detail if detail else ''}", file=status)
        elif state is LinkState.STREAMING and outcome.stream.stats.connects > 1:
            print("captionist: streaming again", file=status)

    def on_gap(gap: Gap) -> None:
        outcome.gaps.append(gap)
        why = (
            "the connection dropped before the server finished it"
            if gap.cause == UNSETTLED
            else "the ring buffer overflowed while disconnected"
        )
        print(
            f"captionist: {gap.length_s:.1f} s of audio lost at {gap.start_s:.1f} s ({why})",
            file=status,
        )

    stream = ReconnectingStream(
        url, params, token=token, config=link or CLI_LINK, on_state=on_state, on_gap=on_gap
    )
    outcome.stream = stream
    pcm = encode_pcm(audio.samples)
    step = chunk_bytes(audio.sample_rate, 1, FRAME_S)
    bytes_per_s = 2 * audio.sample_rate

    async def produce() -> None:
        events.started()
        t0 = time.monotonic()
        for offset in range(0, len(pcm), step):
            frame = pcm[offset : offset + step]
            end = offset + len(frame)
            if realtime:  # as a live source: audio [x, x + 0.1 s) exists only at x + 0.1 s
                delay = t0 + end / bytes_per_s - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:  # a file can wait: hold back rather than let the ring overflow
                await stream.wait_for_room(FILE_AHEAD_S)
            stream.push(frame)
            events.audio_sent = end / bytes_per_s
        stream.finish()

    producer = asyncio.create_task(produce())
    try:
        async for raw, message in stream.frames():
            events.write(raw)
            if isinstance(message, Metadata):
                outcome.metadata = message
            if message is not None:
                on_message(message)
        await producer
    finally:
        producer.cancel()
    return outcome


def export_format(options: TranscribeOptions) -> str | None:
    """`--format`, else the `-o` extension (none: TXT); None when nothing is exported."""
    if options.fmt is not None:
        return options.fmt
    if options.output is None:
        return None
    fmt = options.output.suffix.lstrip(".").lower() or "txt"
    if fmt not in FORMATS:
        raise ConfigError(
            f"cannot tell an export format from {options.output.name!r}; "
            f"use --format ({', '.join(FORMATS)})"
        )
    return fmt


def check_output(path: Path) -> None:
    """Before the work: a file that cannot be written must not cost a transcription."""
    if path.is_dir():
        raise ConfigError(f"-o {path}: that is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"-o {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"-o {path}: the folder {folder} is not writable")


async def run_transcribe(options: TranscribeOptions, out: IO[str] = sys.stdout) -> int:
    fmt = export_format(options)  # before the work: a bad -o name must not cost a transcription
    if options.output is not None:
        check_output(options.output)
    keyterms = clean_keyterms(("keyterm", term) for term in options.keyterms)  # likewise
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
            live = live_engine_of(message)
            if live is not None:  # the live engine changed: say which one captions now
                print(
                    f"captionist: now captioning with {live} ({message.message})", file=sys.stderr
                )
            else:
                print(f"warning: {message.code}: {message.message}", file=sys.stderr)

    started = time.monotonic()
    try:
        if options.server:
            outcome = await stream_audio(
                audio,
                options.server,
                options.token,
                realtime=options.realtime,
                events=events,
                on_message=on_message,
                keyterms=keyterms,
                diarize=options.diarize,
                max_speakers=options.max_speakers,
            )
        else:
            from app.commands.embedded import embedded_server, load_engine

            engine = load_engine(
                options.engine,
                options.model,
                threads=options.threads,
                deepgram_url=options.deepgram_url,
                failover=options.failover,
            )
            if note := engine.selection_note:  # --model auto: what and why
                print(f"captionist: {note}", file=sys.stderr)
            try:
                async with embedded_server(engine) as (url, token):
                    outcome = await stream_audio(
                        audio,
                        url,
                        token,
                        realtime=options.realtime,
                        events=events,
                        on_message=on_message,
                        keyterms=keyterms,
                        diarize=options.diarize,
                        max_speakers=options.max_speakers,
                    )
            finally:
                await engine.aclose()
    finally:
        display.end_line()
        events.close()
    elapsed = time.monotonic() - started
    for gap in outcome.gaps:
        transcript.add_gap(gap.start_s, gap.length_s)
    if fmt is not None:
        text = export(
            transcript.utterances(), fmt, ExportOptions(labels=False, title=options.audio.stem)
        )
        if options.output is None:
            out.write(text)
        else:
            try:
                options.output.write_text(text, encoding="utf-8")
            except OSError as exc:  # a full disk at the very end: the transcript goes to stdout
                out.write(text)
                reason = exc.strerror or str(exc)
                print(f"captionist: cannot write {options.output}: {reason}", file=sys.stderr)
                print("captionist: the transcript was printed instead", file=sys.stderr)
                return 1
    metadata = outcome.metadata
    model = f"{metadata.engine} {metadata.model}" if metadata else "?"
    stats = outcome.stream.stats
    lost = outcome.stream.lost_s
    faults = ""
    if stats.connects > 1 or lost:
        outage = max(stats.outages, default=0.0)
        faults = (
            f"; {stats.connects - 1} reconnects, longest outage {outage:.1f} s, "
            f"{stats.replayed_s:.1f} s replayed, {lost:.1f} s lost"
        )
    print(
        f"captioned {audio.duration:.1f} s of audio in {elapsed:.1f} s ({model}){faults}",
        file=sys.stderr,
    )
    return 0
