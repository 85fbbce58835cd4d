"""The WebSocket server with a scripted engine: handshake checks, limits, control messages."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import urllib.error
import urllib.request
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app.client.streamer import StreamClient
from app.errors import HandshakeRejected, ServerClosed, ServerUnavailable
from app.protocol.messages import Control, Metadata, Results, ResultsMetadata
from app.protocol.params import StreamParams
from app.server.handler import BACKPRESSURE_S
from app.server.server import ServerConfig, TranscriptionServer
from tests.conftest import run
from tests.fakes import DyingEngine, ScriptedEngine, SlowClockEngine
from tests.waiting import until

SECOND = b"\x00\x00" * 16000


async def started(engine: ScriptedEngine | None = None, **config: Any) -> TranscriptionServer:
    server = TranscriptionServer(
        engine or ScriptedEngine(), ServerConfig(host="127.0.0.1", port=0, **config)
    )
    await server.start()
    return server


def http_get(url: str, token: str | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("encoding=opus", "encoding"),
        ("sample_rate=0", "sample_rate"),
        ("channels=3", "channels"),
        ("language=fr", "language"),
    ],
)
def test_bad_handshake_is_refused_before_upgrade_with_json_naming_the_parameter(
    query: str, param: str
) -> None:
    async def scenario() -> InvalidStatus:
        async with await started() as server:
            with pytest.raises(InvalidStatus) as info:
                async with connect(f"{server.url}?{query}"):
                    pass
            return info.value

    error = run(scenario())
    assert error.response.status_code == 400
    assert error.response.headers["Content-Type"] == "application/json"
    body = json.loads(error.response.body)
    assert body["err_code"] == "INVALID_PARAMETER" and body["parameter"] == param
    assert param in body["err_msg"]


def test_client_maps_refusal_to_handshake_rejected() -> None:
    async def scenario() -> None:
        async with await started() as server:
            with pytest.raises(HandshakeRejected) as info:
                async with StreamClient(server.url, StreamParams(sample_rate=8000, language="de")):
                    pass
            assert info.value.status == 400 and "language" in info.value.err_msg

    run(scenario())


def test_dead_server_is_server_unavailable() -> None:
    async def scenario() -> None:
        with pytest.raises(ServerUnavailable):
            async with StreamClient("ws://127.0.0.1:9/ws/transcribe", StreamParams()):
                pass

    run(scenario())


def test_healthz_and_unknown_path() -> None:
    async def scenario() -> tuple[tuple[int, dict[str, Any]], tuple[int, dict[str, Any]]]:
        async with await started() as server:
            base = f"http://127.0.0.1:{server.port}"
            loop = asyncio.get_running_loop()
            health = await loop.run_in_executor(None, http_get, base + "/healthz")
            missing = await loop.run_in_executor(None, http_get, base + "/nope")
            return health, missing

    (status, body), (missing_status, _) = run(scenario())
    assert status == 200 and body["status"] == "ok" and body["engine"] == "scripted"
    assert missing_status == 404


def test_healthz_tells_what_runs_only_to_token_holders() -> None:
    async def scenario() -> list[tuple[int, dict[str, Any]]]:
        async with await started(token="s3cret") as server:
            url = f"http://127.0.0.1:{server.port}/healthz"
            loop = asyncio.get_running_loop()
            return [
                await loop.run_in_executor(None, http_get, url, token)
                for token in (None, "wrong", "s3cret")
            ]

    anonymous, wrong, holder = run(scenario())
    assert anonymous == (200, {"status": "ok"}) and wrong == (200, {"status": "ok"})
    assert holder[0] == 200 and holder[1]["engine"] == "scripted" and "sessions" in holder[1]


def test_guessing_tokens_is_rate_limited_and_the_guesses_are_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> list[int]:
        statuses = []
        async with await started(token="s3cret", attempt_burst=3, attempts_per_s=0.01) as server:
            for guess in ("guess-1", "guess-2", "guess-3", "guess-4", "s3cret"):
                with pytest.raises(HandshakeRejected) as info:
                    async with StreamClient(server.url, StreamParams(), token=guess):
                        pass
                statuses.append(info.value.status)
        return statuses

    with caplog.at_level(logging.DEBUG):
        # After the burst even the right token waits: a guesser cannot tell it found one.
        assert run(scenario()) == [401, 401, 401, 429, 429]
    server_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("app."))
    assert "missing or wrong token" in server_log
    assert "guess-" not in server_log and "s3cret" not in server_log


def test_token_is_required_when_configured() -> None:
    async def scenario() -> None:
        async with await started(token="s3cret") as server:
            for token in (None, "wrong"):
                with pytest.raises(HandshakeRejected) as info:
                    async with StreamClient(server.url, StreamParams(), token=token):
                        pass
                assert info.value.status == 401
            async with StreamClient(server.url, StreamParams(), token="s3cret") as client:
                await client.send_control(Control.CLOSE_STREAM)
                assert [m async for m in client.messages()]
            # Browsers send the token as a subprotocol and need it echoed.
            async with connect(server.url, subprotocols=["token", "s3cret"]) as ws:  # type: ignore[list-item]
                assert ws.subprotocol == "token"

    run(scenario())


def test_stream_then_close_stream_gives_finals_metadata_and_normal_close() -> None:
    async def scenario() -> list[object]:
        async with await started() as server, StreamClient(server.url, StreamParams()) as client:
            for _ in range(3):
                await client.send_audio(SECOND)
            await client.send_control(Control.KEEP_ALIVE)
            await client.send_control(Control.CLOSE_STREAM)
            return [m async for m in client.messages()]

    messages = run(scenario())
    assert isinstance(messages[-1], Metadata) and messages[-1].duration == pytest.approx(3.0)
    final = messages[-2]
    assert isinstance(final, Results) and final.is_final and final.transcript == "w0 w1 w2"


def test_every_results_names_its_session_and_model_and_metadata_hashes_the_audio() -> None:
    """Deepgram's `metadata` block on each Results, and `sha256` of the audio in Metadata."""
    audio = [bytes([n]) * 32000 for n in range(3)]  # three different seconds

    async def scenario() -> list[object]:
        async with await started() as server, StreamClient(server.url, StreamParams()) as client:
            for second in audio:
                await client.send_audio(second)
            await client.send_control(Control.CLOSE_STREAM)
            return [m async for m in client.messages()]

    *results, metadata = run(scenario())
    assert isinstance(metadata, Metadata)
    assert metadata.sha256 == hashlib.sha256(b"".join(audio)).hexdigest()
    assert results and all(isinstance(r, Results) for r in results)
    assert {r.metadata for r in results if isinstance(r, Results)} == {
        ResultsMetadata(metadata.request_id, "script", model_arch="scripted")
    }


def test_finalize_flushes_without_ending_the_stream() -> None:
    async def scenario() -> Results:
        async with await started() as server, StreamClient(server.url, StreamParams()) as client:
            await client.send_audio(SECOND)
            await client.send_control(Control.FINALIZE)
            async for message in client.messages():
                if isinstance(message, Results) and message.is_final:
                    return message
            raise AssertionError("no final")

    final = run(scenario())
    assert final.from_finalize and final.transcript == "w0"


async def closed_with(url: str, *frames: bytes | str, params: str = "") -> tuple[int, str]:
    async with connect(url + params, max_size=None) as ws:
        try:
            for frame in frames:
                await ws.send(frame)
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass
        assert ws.close_code is not None
        return ws.close_code, ws.close_reason or ""


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ((b"\x00\x00\x00",), 1007),  # odd-length PCM
        (("{not json",), 1007),
        ((b"\x00" * (10 * 1024 * 1024),), 1009),  # a 10 MB frame
    ],
)
def test_bad_frames_close_with_the_right_code_and_the_server_keeps_serving(
    frames: tuple[bytes | str, ...], code: int
) -> None:
    async def scenario() -> tuple[int, list[object]]:
        async with await started() as server:
            close_code, _ = await closed_with(server.url, *frames)
            async with StreamClient(server.url, StreamParams()) as client:
                await client.send_audio(SECOND)
                await client.send_control(Control.CLOSE_STREAM)
                return close_code, [m async for m in client.messages()]

    close_code, messages = run(scenario())
    assert close_code == code
    assert isinstance(messages[-1], Metadata)


def test_odd_length_frame_sends_error_before_the_close() -> None:
    async def scenario() -> list[str | bytes]:
        received: list[str | bytes] = []
        async with await started() as server, connect(server.url) as ws:
            await ws.send(b"\x01\x02\x03")
            with pytest.raises(ConnectionClosed):
                while True:
                    received.append(await ws.recv())
        return received

    (error,) = run(scenario())
    assert json.loads(error)["type"] == "Error"


def test_binary_garbage_is_audio_not_a_crash() -> None:
    async def scenario() -> int:
        async with await started() as server, StreamClient(server.url, StreamParams()) as client:
            await client.send_audio(bytes(range(256)) * 125)
            await client.send_control(Control.CLOSE_STREAM)
            messages = [m async for m in client.messages()]
            return len(messages)

    assert run(scenario()) >= 2


def test_client_that_vanishes_mid_stream_aborts_its_session_only() -> None:
    engine = ScriptedEngine()

    async def scenario() -> list[object]:
        async with await started(engine) as server:
            ws = await connect(server.url)
            await ws.send(SECOND)
            ws.transport.abort()  # no close frame: the client just disappears
            for _ in range(100):
                if engine.sessions and engine.sessions[0].aborted:
                    break
                await asyncio.sleep(0.02)
            async with StreamClient(server.url, StreamParams()) as client:
                await client.send_audio(SECOND)
                await client.send_control(Control.CLOSE_STREAM)
                return [m async for m in client.messages()]

    messages = run(scenario())
    assert engine.sessions[0].aborted
    assert isinstance(messages[-1], Metadata)


def test_idle_session_times_out_with_1011() -> None:
    async def scenario() -> None:
        server = await started(idle_timeout_s=0.3)
        async with server, StreamClient(server.url, StreamParams()) as client:
            with pytest.raises(ServerClosed) as info:
                async for _ in client.messages():
                    pass
            assert info.value.code == 1011 and "KeepAlive" in info.value.reason

    run(scenario())


def test_a_session_whose_engine_died_with_a_full_queue_ends_within_a_second() -> None:
    """Backpressure waits for the engine to catch up; a dead engine never will."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosedError

    async def scenario() -> tuple[list[str | bytes], int | None, float]:
        frames: list[str | bytes] = []
        async with await started(DyingEngine()) as server:
            async with connect(server.url) as ws:
                for _ in range(5):
                    await ws.send(b"\x00\x00" * 1600)
                with pytest.raises(ConnectionClosedError) as info:
                    while True:
                        frames.append(await ws.recv())
            closed = asyncio.get_running_loop().time()
            await until(lambda: not server.sessions, 5, "the session to end")
            ended_after = asyncio.get_running_loop().time() - closed
            code = info.value.rcvd.code if info.value.rcvd else None
        return frames, code, ended_after

    frames, code, ended_after = run(scenario())
    assert json.loads(frames[-1])["code"] == "ENGINE_ERROR" and code == 1011
    assert ended_after < 1.0, "the session (and its audio) outlived its engine"


def test_a_client_that_does_not_pace_itself_is_held_at_the_backpressure_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server takes in at most BACKPRESSURE_S of audio its engine has not decoded (plus
    the frames websockets queues); the rest waits in TCP: memory stays bounded. When the
    engine catches up, the rate limit ends the session; the client no longer reads its close,
    and that is no crash."""
    from websockets.asyncio.client import connect

    async def scenario() -> float:
        engine = SlowClockEngine(speed=0.0)
        server = await started(engine)  # type: ignore[arg-type]
        async with server, connect(server.url, close_timeout=0.5) as ws:

            async def flood() -> None:
                for _ in range(round(3 * BACKPRESSURE_S)):  # 1 s frames
                    await ws.send(b"\x00\x00" * 16000)

            sender = asyncio.create_task(flood())
            await asyncio.sleep(2.0)
            taken = next(iter(server.sessions.values())).audio_seconds
            sender.cancel()
            engine.speed = 1000.0  # catches up: the server reads again and sees the close
        return taken

    taken = run(scenario())
    assert BACKPRESSURE_S <= taken <= BACKPRESSURE_S + 20
    assert not [r for r in caplog.records if "crashed" in r.getMessage()]
