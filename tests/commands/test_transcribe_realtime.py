"""A file played "live" (`transcribe --realtime`, `gui --file`) is paced as a live source.

A microphone hands over the block [x, x + 0.1 s) at x + 0.1 s; a file sent any earlier makes
every latency measured with it (bench/streaming.py) read one frame too good.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.audio.file_source import DecodedAudio
from app.audio.replay import FileReplaySource
from app.commands.transcribe import EventLog, stream_audio
from app.server.server import ServerConfig, TranscriptionServer
from tests.conftest import run
from tests.fakes import ClockEngine

# asyncio may wake a sleep up to its clock resolution early; nothing else is allowed.
SLACK_S = 0.02


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_realtime_sends_no_audio_before_it_would_have_been_captured(tmp_path: Path) -> None:
    events_path = tmp_path / "events.jsonl"

    async def scenario() -> None:
        engine, port = ClockEngine(), free_port()
        server = TranscriptionServer(engine, ServerConfig(port=port))
        await server.start()
        events = EventLog(events_path)
        try:
            audio = DecodedAudio(np.zeros(2 * 16000, dtype=np.float32), 16000)
            url = f"ws://127.0.0.1:{port}/ws/transcribe"
            await stream_audio(
                audio, url, None, realtime=True, events=events, on_message=lambda _: None
            )
        finally:
            events.close()
            await server.close()

    run(scenario())
    records: list[dict[str, Any]] = [json.loads(line) for line in events_path.open()]
    # The ClockEngine finals "s<k>" once second k is fully in: only at k + 1 s of wall time.
    finals = {
        r["msg"]["transcript"]: r["t"]
        for r in records
        if r["msg"]["type"] == "Results" and r["msg"]["is_final"]
    }
    assert set(finals) == {"s0", "s1"}
    assert finals["s0"] >= 1.0 - SLACK_S
    assert finals["s1"] >= 2.0 - SLACK_S
    for record in records:  # the audio sent when each message arrived had already happened
        assert record["audio_s"] <= record["t"] + SLACK_S, record


def test_a_replayed_file_hands_over_each_block_once_it_would_have_been_captured() -> None:
    source = FileReplaySource(
        Path("talk.wav"), audio=DecodedAudio(np.zeros(4800, dtype=np.float32), 16000)
    )

    async def scenario() -> list[float]:
        await source.start()
        started = time.monotonic()
        return [time.monotonic() - started async for _ in source.blocks()]

    arrivals = run(scenario())
    assert len(arrivals) == 3
    for k, arrival in enumerate(arrivals):  # block k holds [0.1 k, 0.1 (k + 1)) s
        assert arrival >= 0.1 * (k + 1) - SLACK_S
