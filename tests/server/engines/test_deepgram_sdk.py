"""The official Deepgram Python SDK (`deepgram-sdk`, PyPI) against our server (issue 13 item 3).

Its URLs point at ours and it sends our token as its API key, as a Deepgram user's code would.
The SDK's client is synchronous: it runs in a worker thread so the server's loop goes on, and
it reads in a thread of its own so its receive queue never holds up the sender.

The SDK reads a message it cannot validate without checking it (a missing field comes back as
None, not as an error), so the wire format is also checked against its own types, strictly.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from deepgram import DeepgramClient
from deepgram.environment import DeepgramClientEnvironment
from deepgram.listen.v1.types import (
    ListenV1Error,
    ListenV1Metadata,
    ListenV1Results,
    ListenV1SpeechStarted,
    ListenV1UtteranceEnd,
)
from pydantic import BaseModel
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from app.protocol.messages import SpeechStarted, UtteranceEnd, encode
from app.protocol.pcm import encode_pcm
from app.server.engines.base import Engine
from app.server.engines.deepgram import DeepgramConfig, DeepgramEngine
from app.server.server import ServerConfig, TranscriptionServer
from tests.conftest import run
from tests.fake_deepgram import FakeDeepgram
from tests.fakes import ScriptedEngine
from tests.streaming import load, manifest

# The SDK imports websockets' legacy client (for its async client, not used here).
pytestmark = [
    pytest.mark.filterwarnings("ignore:websockets.legacy is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:websockets.exceptions.InvalidStatusCode:DeprecationWarning"),
]
TOKEN = "s3cret"
RATE = 16000
SECOND = b"\x00\x00" * RATE
READ_TIMEOUT_S = 30.0


def sdk_stream(
    port: int,
    pcm: bytes,
    *,
    token: str = TOKEN,
    speed: float | None = 2.0,
    frame_s: float = 0.1,
    **options: str,
) -> list[Any]:
    """Stream `pcm` (16 kHz mono s16le) with the SDK's own client; what its iterator yielded.

    Paced at `speed` x real time (our server allows 2x on average), None: at once.
    """
    client = DeepgramClient(
        api_key=token,
        environment=DeepgramClientEnvironment(
            base=f"http://127.0.0.1:{port}",
            production=f"ws://127.0.0.1:{port}",
            agent="",
            agent_rest="",
        ),
    )
    received: list[Any] = []
    failures: list[BaseException] = []

    def read(ws: Any) -> None:
        try:
            received.extend(ws)
        except BaseException as exc:  # surfaced in the test's own thread below
            failures.append(exc)

    step = int(RATE * frame_s) * 2
    with client.listen.v1.connect(
        model="nova-3", encoding="linear16", sample_rate=RATE, channels=1, **options
    ) as ws:
        reader = threading.Thread(target=read, args=(ws,), daemon=True)
        reader.start()
        started = time.monotonic()
        for at in range(0, len(pcm), step):
            ws.send_media(pcm[at : at + step])
            if speed is not None:  # pacing the audio, as a live source does
                due = started + (at + step) / 2 / RATE / speed
                time.sleep(max(0.0, due - time.monotonic()))
        ws.send_close_stream()
        reader.join(READ_TIMEOUT_S)
    assert not reader.is_alive(), f"the SDK read no close within {READ_TIMEOUT_S:g} s"
    if failures:
        raise failures[0]
    return received


def with_server(engine: Engine, scenario: Callable[[int], list[Any]], timeout: float = 60) -> Any:
    async def served() -> list[Any]:
        async with TranscriptionServer(engine, ServerConfig(port=0, token=TOKEN)) as server:
            return await asyncio.to_thread(scenario, server.port)

    return run(served(), timeout=timeout)


def of_type(received: list[Any], kind: type[BaseModel]) -> list[Any]:
    return [m for m in received if isinstance(m, kind)]


# -- fast: a scripted engine (no model) ------------------------------------------------------


def test_the_sdk_streams_with_our_token_and_reads_interim_and_final_results() -> None:
    pcm = SECOND * 3
    received = with_server(
        ScriptedEngine(), lambda port: sdk_stream(port, pcm, interim_results="true")
    )
    results = of_type(received, ListenV1Results)
    interims = [r for r in results if r.is_final is False]
    finals = [r for r in results if r.is_final is True]
    assert interims and finals
    assert " ".join(r.channel.alternatives[0].transcript for r in finals) == "w0 w1 w2"
    words = [w for r in finals for w in r.channel.alternatives[0].words]
    assert [(w.word, w.punctuated_word, w.start, w.end) for w in words] == [
        ("w0", "w0", 0.0, 1.0),
        ("w1", "w1", 1.0, 2.0),
        ("w2", "w2", 2.0, 3.0),
    ]
    (metadata,) = of_type(received, ListenV1Metadata)
    assert metadata.duration == pytest.approx(3.0)
    assert metadata.sha256 == hashlib.sha256(pcm).hexdigest()
    assert {r.metadata.request_id for r in results} == {metadata.request_id}
    assert {r.metadata.model_info.name for r in results} == {"script"}
    assert received[-1] is metadata  # then the SDK's iterator ends: a normal close


def test_the_sdk_with_a_wrong_key_is_refused_with_401() -> None:
    with pytest.raises(InvalidStatus) as info:
        with_server(ScriptedEngine(), lambda port: sdk_stream(port, SECOND, token="wrong"))
    assert info.value.response.status_code == 401


def test_the_sdk_gets_the_providers_speakers_through_our_deepgram_engine() -> None:
    """diarize=true from the SDK goes up to Deepgram; its labels come back on every word."""

    async def scenario() -> tuple[list[Any], list[list[str]]]:
        async with FakeDeepgram(ScriptedEngine(), "dg-key") as fake:
            # The SDK asks for nova-3 by name: a model this server's owner offers.
            config = DeepgramConfig(api_key="dg-key", url=fake.url, model="nova-3")
            engine = DeepgramEngine(config)
            async with TranscriptionServer(engine, ServerConfig(port=0, token=TOKEN)) as server:
                received = await asyncio.to_thread(
                    sdk_stream, server.port, SECOND * 3, diarize="true"
                )
            return received, [c.query.get("diarize", []) for c in fake.connections]

    received, upstream = run(scenario())
    assert upstream == [["true"]]
    finals = [r for r in of_type(received, ListenV1Results) if r.is_final]
    words = [w for r in finals for w in r.channel.alternatives[0].words]
    assert [(w.word, w.speaker) for w in words] == [("w0", 0), ("w1", 1), ("w2", 0)]


async def raw_frames(url: str, *frames: bytes | str) -> list[dict[str, Any]]:
    """Every message the server sends until it closes, normally or not."""
    received: list[dict[str, Any]] = []
    async with connect(url, additional_headers={"Authorization": f"Token {TOKEN}"}) as ws:
        for frame in frames:
            await ws.send(frame)
        with contextlib.suppress(ConnectionClosedError):
            async for message in ws:
                received.append(json.loads(message))
    return received


def test_every_message_our_server_sends_is_valid_for_the_sdks_own_types() -> None:
    """Strict validation: every field the SDK declares required is there, of its type."""

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with TranscriptionServer(
            ScriptedEngine(), ServerConfig(port=0, token=TOKEN)
        ) as server:
            url = f"{server.url}?diarize=true"
            streamed = await raw_frames(url, SECOND, SECOND, '{"type": "CloseStream"}')
            refused = await raw_frames(url, b"\x00")  # an odd byte: Error, then 1007
        return streamed, refused

    streamed, refused = run(scenario())
    sent = [*streamed, *refused]
    sent += [json.loads(encode(m)) for m in (UtteranceEnd(1.5), SpeechStarted(0.25))]
    sdk_types: dict[str, type[BaseModel]] = {
        "Results": ListenV1Results,
        "Metadata": ListenV1Metadata,
        "Error": ListenV1Error,
        "UtteranceEnd": ListenV1UtteranceEnd,
        "SpeechStarted": ListenV1SpeechStarted,
    }
    assert {m["type"] for m in sent} == set(sdk_types)
    for message in sent:
        sdk_types[message["type"]].model_validate(message)


# -- e2e: the real local engine (tiny.en) on real speech -------------------------------------


@pytest.mark.e2e
@pytest.mark.model
def test_the_sdk_captions_real_speech_with_interim_and_final_results(
    whisper_engine: Engine, speech_dir: Path
) -> None:
    item = manifest(speech_dir)["pub_jfk_inaugural_01"]
    audio = load(speech_dir / item["audio"])
    pcm = encode_pcm(audio)
    received = with_server(
        whisper_engine,
        lambda port: sdk_stream(port, pcm, speed=1.0, interim_results="true", diarize="true"),
        timeout=120,
    )
    results = of_type(received, ListenV1Results)
    interims = [r for r in results if r.is_final is False]
    finals = [r for r in results if r.is_final is True]
    assert any(r.channel.alternatives[0].transcript for r in interims), "no interim text"
    final_text = " ".join(r.channel.alternatives[0].transcript for r in finals).strip()
    assert final_text, "no final text"
    words = [w for r in finals for w in r.channel.alternatives[0].words]
    assert words
    duration = len(audio) / RATE
    for word in words:
        assert 0.0 <= word.start <= word.end <= duration + 0.5, word
        assert word.word and word.punctuated_word, word
    # diarize=true: the local engine labels every final word (one voice here: one label).
    assert {word.speaker for word in words} == {0}
    (metadata,) = of_type(received, ListenV1Metadata)
    assert metadata.duration == pytest.approx(duration, abs=0.1)
    assert {r.metadata.request_id for r in results} == {metadata.request_id}
