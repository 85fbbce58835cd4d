"""Who may open a session and how much: origin, host, token, caps, rate and length limits,
TLS, and a fuzz test of the message parsers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.client.lifecycle import LinkConfig, LinkState, ReconnectingStream
from app.client.streamer import StreamClient
from app.errors import ProtocolError, ServerUnavailable
from app.protocol.messages import parse_control, parse_server_message
from app.protocol.params import StreamParams
from app.protocol.session import ServerSession
from app.server.guard import (
    AudioRateLimit,
    ClientLimits,
    TokenBucket,
    host_allowed,
    origin_allowed,
)
from app.server.server import ServerConfig, TranscriptionServer
from tests.client.test_lifecycle import FRAME, Recorder
from tests.conftest import ROOT, run
from tests.fakes import ClockEngine
from tests.waiting import until

CAPTIONIST = [sys.executable, "-m", "app"]
FAST = LinkConfig(backoff_initial_s=0.05, backoff_cap_s=0.2, give_up_after_s=20)


async def started(**config: Any) -> TranscriptionServer:
    server = TranscriptionServer(ClockEngine(), ServerConfig(port=0, **config))
    await server.start()
    return server


async def refusal(url: str, **kw: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, **kw):
            pass
    response = info.value.response
    return response.status_code, json.loads(bytes(response.body or b""))


# -- pure policy ---------------------------------------------------------------------------
def test_origin_policy() -> None:
    default = ("http://localhost:*", "http://127.0.0.1:*")
    assert origin_allowed(None, default)  # not a browser
    assert origin_allowed("http://localhost:5173", default)
    assert origin_allowed("http://127.0.0.1:8080", default)
    assert origin_allowed("http://localhost", default)
    for bad in (
        "https://evil.example",
        "http://localhost.evil.example:80",
        "http://localhost:80@evil",
        "null",
        "http://127.0.0.1:80/../",
    ):
        assert not origin_allowed(bad, default), bad
    assert origin_allowed("https://meet.example.com", ("https://*.example.com",))


def test_host_policy() -> None:
    for good in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST"):
        assert host_allowed(good, "127.0.0.1", ())
    assert not host_allowed("rebind.evil.example:8000", "127.0.0.1", ())
    assert not host_allowed(None, "127.0.0.1", ())
    assert host_allowed("box.lan:8000", "127.0.0.1", ("box.lan",))
    assert host_allowed("anything:8000", "0.0.0.0", ())  # a team server: the token guards it


def test_client_limits_and_token_bucket() -> None:
    bucket = TokenBucket(rate=2, burst=3)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5)  # one token back after half a second at 2/s
    limits = ClientLimits(max_sessions=2, attempts_per_s=100, attempt_burst=100)
    for _ in range(2):
        assert limits.admit("10.0.0.1", 0.0) is None
        limits.opened("10.0.0.1")
    assert "at most 2 sessions" in (limits.admit("10.0.0.1", 0.0) or "")
    assert limits.admit("10.0.0.2", 0.0) is None  # another client is not affected
    limits.closed("10.0.0.1")
    assert limits.admit("10.0.0.1", 0.0) is None


def test_audio_rate_limit_allows_a_burst_then_twice_real_time() -> None:
    limit = AudioRateLimit(factor=2.0, burst_s=150.0)
    assert not limit.exceeded(audio_s=150.0, elapsed_s=0.0)  # a full ring drained at once
    assert not limit.exceeded(audio_s=350.0, elapsed_s=100.0)
    assert limit.exceeded(audio_s=351.0, elapsed_s=100.0)


# -- the real server -----------------------------------------------------------------------
def test_foreign_origin_gets_403_and_local_pages_are_served() -> None:
    async def scenario() -> None:
        async with await started() as server:
            status, body = await refusal(server.url, origin="https://evil.example")
            assert status == 403 and body["err_code"] == "ORIGIN_NOT_ALLOWED"
            async with connect(server.url, origin="http://localhost:5173") as ws:  # type: ignore[arg-type]
                await ws.send('{"type": "CloseStream"}')
                await ws.recv()

    run(scenario())


async def raw_upgrade(port: int, host: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /ws/transcribe HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = await reader.read(4096)
    writer.close()
    return response


def test_wrong_host_header_is_refused() -> None:
    """A DNS-rebinding page reaches a loopback server under its own name: refused."""

    async def scenario() -> None:
        async with await started() as server:
            refused = await raw_upgrade(server.port, "rebind.evil.example:8000")
            assert refused.startswith(b"HTTP/1.1 421") and b"HOST_NOT_ALLOWED" in refused
            accepted = await raw_upgrade(server.port, f"localhost:{server.port}")
            assert accepted.startswith(b"HTTP/1.1 101")
            status, _ = await refusal(server.url, additional_headers={"Host": "x"})
            assert status == 421  # two Host headers: refused, not a crash

    run(scenario())


def test_missing_or_wrong_token_gets_401() -> None:
    async def scenario() -> None:
        async with await started(token="s3cret") as server:
            for headers in ({}, {"Authorization": "Token wrong"}, {"Authorization": "s3cret"}):
                status, body = await refusal(server.url, additional_headers=headers)
                assert status == 401 and body["err_code"] == "UNAUTHORIZED"

    run(scenario())


def test_200_connection_attempts_are_capped_while_a_session_keeps_captioning() -> None:
    async def scenario() -> tuple[Recorder, list[int]]:
        server = await started(max_sessions_per_client=4)
        rec = Recorder()
        stream = rec.stream(server.url, FAST)
        collector = asyncio.create_task(rec.collect(stream))
        outcomes: list[int] = []
        held: list[Any] = []

        async def attempt() -> None:
            try:
                held.append(await connect(server.url, open_timeout=10))
                outcomes.append(101)
            except InvalidStatus as exc:
                outcomes.append(exc.response.status_code)

        async def produce() -> None:
            for _ in range(60):  # 6 s of audio in real time, during the storm
                stream.push(FRAME)
                await asyncio.sleep(0.1)
            stream.finish()

        producer = asyncio.create_task(produce())
        # The storm starts once the live session holds its place (counted at its handshake).
        await until(lambda: stream.state is LinkState.STREAMING, 10, "the live session")
        await asyncio.gather(*(attempt() for _ in range(200)))
        await producer
        await collector
        for ws in held:
            await ws.close()
        await server.close()
        return rec, outcomes

    rec, outcomes = run(scenario())
    assert len(outcomes) == 200
    assert outcomes.count(101) <= 3  # the live session holds the fourth place
    assert outcomes.count(429) >= 197
    assert rec.words == [f"s{k}" for k in range(6)]  # captioning went on, nothing lost


def test_a_client_ignoring_the_limit_is_closed_with_4429() -> None:
    from websockets.exceptions import ConnectionClosedError

    async def scenario() -> int | None:
        server = await started(audio_rate=AudioRateLimit(factor=2.0, burst_s=3.0))
        async with connect(server.url) as ws:
            assert ws.response is not None
            assert ws.response.headers["Captionist-Audio-Rate"] == "factor=2;burst=3"
            with pytest.raises(ConnectionClosedError) as info:
                for _ in range(300):  # 30 s at once, the header ignored
                    await ws.send(FRAME)
                while True:
                    await ws.recv()
        await server.close()
        return info.value.rcvd.code if info.value.rcvd else None

    assert run(scenario()) == 4429


def test_a_file_sent_at_once_is_paced_under_the_limit_and_completes() -> None:
    """Issue 12: `transcribe --server` without --realtime got 4429 on a long file and gave up;
    our client reads the limit from the handshake and paces itself."""

    async def scenario() -> tuple[Recorder, ReconnectingStream]:
        server = await started(audio_rate=AudioRateLimit(factor=4.0, burst_s=3.0))
        rec = Recorder()
        stream = rec.stream(server.url, FAST)
        for _ in range(150):  # 15 s at once
            stream.push(FRAME)
        stream.finish()
        await rec.collect(stream)
        await server.close()
        return rec, stream

    rec, stream = run(scenario())
    assert LinkState.FAILED not in [s for _, s, _ in rec.states]
    assert stream.stats.connects == 1
    assert rec.words == [f"s{k}" for k in range(15)]  # every second heard


def test_session_length_limit_closes_with_4408_and_the_client_goes_on() -> None:
    async def scenario() -> tuple[Recorder, ReconnectingStream]:
        server = await started(max_session_s=1.0)
        rec = Recorder()
        stream = rec.stream(server.url, FAST)
        collector = asyncio.create_task(rec.collect(stream))
        for _ in range(35):
            stream.push(FRAME)
            await asyncio.sleep(0.1)
        stream.finish()
        await collector
        await server.close()
        return rec, stream

    rec, stream = run(scenario())
    assert stream.stats.connects >= 3
    assert rec.words == [f"s{k}" for k in range(3)]


def _captionist(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_serve_on_all_interfaces_without_a_token_refuses_to_start() -> None:
    result = _captionist("serve", "--host", "0.0.0.0", "--port", "0")
    assert result.returncode != 0
    assert "needs --token" in result.stderr and "--insecure" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.e2e
def test_client_tokens_never_reach_the_servers_logs_even_at_debug(tmp_path: Path) -> None:
    """README: tokens are never logged. A DEBUG server sees right, wrong and browser tokens."""
    secret, wrong = "tok-R1ght-5ecret", "tok-Wr0ng-guess"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stderr = tmp_path / "stderr.txt"
    env = {**os.environ, "CAPTIONIST_LOG_DIR": str(tmp_path / "log")}
    with stderr.open("w") as err:
        server = subprocess.Popen(
            [*CAPTIONIST, "--log-level", "DEBUG", "serve", "--port", str(port), "--token", secret],
            cwd=ROOT,
            env=env,
            stderr=err,
            text=True,
        )
    url = f"ws://127.0.0.1:{port}/ws/transcribe"

    async def sessions() -> list[int]:
        await wait_until_listening(port, server)
        statuses = []
        for headers, subprotocols in (
            ({"Authorization": f"Token {secret}"}, None),
            ({"Authorization": f"Bearer {secret}"}, None),
            ({}, ["token", secret]),
        ):
            async with connect(
                url,
                additional_headers=headers,
                subprotocols=subprotocols,  # type: ignore[arg-type]
            ) as ws:
                await ws.send(b"\x00\x00" * 1600)
                await ws.send('{"type": "CloseStream"}')
                async for _ in ws:
                    pass
                statuses.append(101)
        for headers in ({"Authorization": f"Token {wrong}"}, {"Authorization": wrong}):
            statuses.append((await refusal(url, additional_headers=headers))[0])
        return statuses

    try:
        statuses = run(sessions(), timeout=120)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert statuses == [101, 101, 101, 401, 401]
    logged = stderr.read_text() + "".join(
        f.read_text(errors="replace") for f in (tmp_path / "log").rglob("*") if f.is_file()
    )
    assert "DEBUG" in logged and "session" in logged, "the server did not log at DEBUG"
    assert secret not in logged and wrong not in logged


async def wait_until_listening(port: int, process: subprocess.Popen[str]) -> None:
    for _ in range(600):
        assert process.poll() is None, "the server exited"
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the server never listened")


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_wss_with_cert_and_key(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def scenario() -> list[str]:
        async with await started(ssl=context) as server:
            assert server.url.startswith("wss://")
            client_context = ssl.create_default_context(cafile=str(cert))
            async with connect(server.url, ssl=client_context) as ws:
                await ws.send(FRAME * 12)
                await ws.send('{"type": "CloseStream"}')
                return [json.loads(m)["type"] async for m in ws]  # type: ignore[arg-type]

    assert run(scenario()) == ["Results", "Metadata"]
    # A plain ws:// client cannot talk to it, and a client that does not trust it refuses.
    bad = _captionist("serve", "--cert", str(cert), "--key", str(tmp_path / "missing.pem"))
    assert bad.returncode != 0 and "TLS" in bad.stderr


def test_wss_refuses_plain_and_untrusting_clients_and_goes_on_serving(tmp_path: Path) -> None:
    """TLS means no plain-text session, and a client that cannot verify the server refuses."""
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def scenario() -> tuple[ServerUnavailable, ServerUnavailable, list[str]]:
        async with await started(ssl=context) as server:
            plain_url = server.url.replace("wss://", "ws://", 1)
            with pytest.raises(ServerUnavailable) as plain:
                async with StreamClient(plain_url, StreamParams(), open_timeout=5):
                    pass
            # Captionist's own client trusts the system's CAs only: a self-signed server fails.
            with pytest.raises(ServerUnavailable) as untrusting:
                async with StreamClient(server.url, StreamParams(), open_timeout=5):
                    pass
            trusting = ssl.create_default_context(cafile=str(cert))
            async with connect(server.url, ssl=trusting) as ws:
                await ws.send(FRAME * 12)
                await ws.send('{"type": "CloseStream"}')
                types = [json.loads(m)["type"] async for m in ws]  # type: ignore[arg-type]
            return plain.value, untrusting.value, types

    plain, untrusting, types = run(scenario())
    assert "CERTIFICATE_VERIFY_FAILED" in str(untrusting)
    assert "CERTIFICATE_VERIFY_FAILED" not in str(plain)
    assert types == ["Results", "Metadata"], "a refused client must not stop the server"


# -- fuzz ------------------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
FIELDS = [
    "transcript", "is_final", "speech_final", "start", "duration", "channel_index", "channel",
    "model_info", "last_word_end", "channels", "timestamp", "code", "message", "request_id",
    "duration", "description", "variant", "metadata", "sha256",
]  # fmt: skip
message_like = st.builds(
    lambda kind, fields: {"type": kind, **fields},
    st.sampled_from(
        ["Results", "Metadata", "Warning", "Error", "UtteranceEnd", "SpeechStarted", "X"]
    ),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps), message_like.map(json.dumps)))
def test_fuzz_server_message_parser_raises_only_protocol_errors(text: str) -> None:
    with contextlib.suppress(ProtocolError):
        parse_server_message(text)


@settings(max_examples=300)
@given(st.lists(st.one_of(st.binary(max_size=64), st.text(max_size=64)), max_size=8))
def test_fuzz_server_session_never_crashes(frames: list[bytes | str]) -> None:
    session = ServerSession(StreamParams())
    for frame in frames:
        if session.closing:
            break
        session.receive_message(frame)
        session.events_received()
        session.data_to_send()
    for text in (f for f in frames if isinstance(f, str)):
        with contextlib.suppress(ProtocolError):
            parse_control(text)
