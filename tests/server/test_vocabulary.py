"""The user's vocabulary (keyterms) on its way to an engine: from `transcribe --keyterm`, through
a real server, into Deepgram's query, across a failover and a client reconnect."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.cli import main
from app.client.lifecycle import LinkConfig, ReconnectingStream
from app.client.streamer import StreamClient
from app.protocol.messages import Control
from app.protocol.params import StreamParams
from app.server.engines.deepgram import DeepgramConfig, DeepgramEngine
from app.server.engines.failover import FailoverEngine
from app.server.server import ServerConfig, TranscriptionServer
from tests.client.test_lifecycle import FRAME, free_port, server_on
from tests.conftest import run
from tests.fake_deepgram import FakeDeepgram, Faults
from tests.fakes import ClockEngine, ScriptedEngine
from tests.waiting import until

KEY = "dg-test-key"
TERMS = ("Acme Corp", "Zed")


def tone_file(path: Path, seconds: float = 2.0) -> Path:
    t = np.arange(int(seconds * 16000)) / 16000
    soundfile.write(path, (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    return path


def test_transcribe_sends_each_keyterm_to_the_servers_engine_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audio = tone_file(tmp_path / "tone.wav")
    engine = ScriptedEngine()

    async def scenario() -> int:
        async with TranscriptionServer(engine, ServerConfig(port=0, token="k")) as server:
            # The command line as a user types it; it runs its own event loop, so a thread.
            argv = ["transcribe", str(audio), "--server", server.url, "--token", "k"]
            return await asyncio.to_thread(main, [*argv, "--keyterm", "A", "--keyterm", "B"])

    assert run(scenario()) == 0, capsys.readouterr().err
    assert [session.params.keyterms for session in engine.sessions] == [("A", "B")]


def test_transcribe_refuses_an_unusable_keyterm_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audio = tone_file(tmp_path / "tone.wav")
    # No server listens there: the refusal must come before any connection attempt.
    code = main(["transcribe", str(audio), "--server", "ws://127.0.0.1:9/x", "--keyterm", "a\x07"])
    assert code == 1
    err = capsys.readouterr().err
    assert "invalid keyterm='a\\x07': must not contain control characters" in err
    assert "127.0.0.1:9" not in err


async def close_stream(url: str, params: StreamParams, seconds: float = 0.5) -> None:
    async with StreamClient(url, params) as client:
        await client.send_audio(b"\x00\x00" * int(16000 * seconds))
        await client.send_control(Control.CLOSE_STREAM)
        async for _ in client.messages():
            pass


@pytest.mark.parametrize(
    ("configured", "asked", "name"),
    [
        ("nova-3", None, "keyterm"),
        ("nova-2", "nova-3", "keyterm"),  # the handshake's model wins (one the owner offers)
        ("nova-2", None, "keywords"),  # keyterm prompting is Nova-3's: older models get keywords
    ],
)
def test_the_deepgram_engine_forwards_the_terms_in_its_upstream_query(
    configured: str, asked: str | None, name: str
) -> None:
    cloud = ScriptedEngine()

    async def scenario() -> FakeDeepgram:
        async with FakeDeepgram(cloud, KEY) as fake:
            offered = (asked,) if asked else ()
            config = DeepgramConfig(
                api_key=KEY, url=fake.url, model=configured, client_models=offered
            )
            async with TranscriptionServer(DeepgramEngine(config), ServerConfig(port=0)) as server:
                await close_stream(server.url, StreamParams(keyterms=TERMS, model=asked))
            return fake

    fake = run(scenario())
    (connection,) = fake.connections
    assert connection.query[name] == list(TERMS)
    other = "keywords" if name == "keyterm" else "keyterm"
    assert other not in connection.query  # sent once, under one name
    assert connection.query["model"] == [asked or configured]
    assert [s.params.keyterms for s in cloud.sessions] == [TERMS]  # Deepgram understood them


@pytest.mark.parametrize(
    "faults", [Faults(refuse_status=429), Faults(close_after_s=0.3)], ids=["refused", "mid-stream"]
)
def test_a_session_that_fails_over_keeps_its_terms(faults: Faults) -> None:
    local = ScriptedEngine()

    async def scenario() -> None:
        async with FakeDeepgram(ScriptedEngine(), KEY) as fake:
            fake.faults = faults
            provider = DeepgramEngine(DeepgramConfig(api_key=KEY, url=fake.url, model="nova-3"))
            engine = FailoverEngine(provider, local, probe_every_s=60.0)
            async with TranscriptionServer(engine, ServerConfig(port=0)) as server:
                await close_stream(server.url, StreamParams(keyterms=TERMS), seconds=1.0)

    run(scenario())
    assert local.sessions, "the session never reached the local engine"
    assert {s.params.keyterms for s in local.sessions} == {TERMS}


def test_a_reconnected_stream_sends_its_terms_again() -> None:
    engine, port = ClockEngine(), free_port()
    link = LinkConfig(backoff_initial_s=0.05, backoff_cap_s=0.2, give_up_after_s=30)

    async def scenario() -> None:
        server = await server_on(engine, port)
        url = f"ws://127.0.0.1:{port}/ws/transcribe"
        stream = ReconnectingStream(url, StreamParams(keyterms=TERMS), config=link)
        drain = asyncio.create_task(_drain(stream))
        for _ in range(30):
            stream.push(FRAME)
        await until(lambda: engine.audio_received_s >= 3.0, 10, "the first three seconds")
        # The server restarts: the stream resumes with a stream offset (its replay starts
        # 1.5 s before the last final's end).
        await server.close()
        server = await server_on(engine, port)
        for _ in range(10):
            stream.push(FRAME)
        stream.finish()
        await drain
        await server.close()

    run(scenario())
    assert len(engine.sessions) >= 2
    assert {s.params.keyterms for s in engine.sessions} == {TERMS}
    assert engine.sessions[-1].params.stream_offset_s > 0


async def _drain(stream: ReconnectingStream) -> None:
    async for _ in stream.messages():
        pass
