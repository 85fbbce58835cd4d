"""Deepgram provider and failover, against a fake Deepgram that uses the real local engine.

Each fault must move the session to the local engine within 2 s of being detectable, lose no
word (compared with a local-only run of the same audio), and say so with a Warning.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import numpy as np
import pytest

from app.client.streamer import StreamClient
from app.errors import ConfigError, ServerClosed
from app.protocol.messages import (
    PROVIDER_FAILBACK,
    PROVIDER_FAILOVER,
    Warning,
    live_engine_of,
)
from app.protocol.params import StreamParams
from app.server.engines.deepgram import DeepgramConfig, DeepgramEngine
from app.server.engines.failover import FailoverEngine
from app.server.engines.whisper import WhisperEngine
from app.server.server import ServerConfig, TranscriptionServer
from tests.conftest import run
from tests.fake_deepgram import FakeDeepgram, Faults
from tests.streaming import Received, final_text, load, stream, wer
from tests.waiting import until

pytestmark = [pytest.mark.e2e, pytest.mark.model]
# Real time: here the "cloud" shares the two cores with the local engine, and a faster pace
# would measure CPU contention, not failover.
SPEED = 1.0
KEY = "dg-test-key"


@pytest.fixture(scope="module")
def speech(speech_dir: Path) -> np.ndarray:
    """JFK (11 s) twice with a pause between: two utterances, 23 s."""
    jfk = load(speech_dir / "audio/pub_jfk_inaugural_01.flac")
    return np.concatenate([jfk, np.zeros(16000, np.float32), jfk]).astype(np.float32)


async def caption(engine: object, audio: np.ndarray) -> list[Received]:
    async with TranscriptionServer(engine, ServerConfig(port=0)) as server:  # type: ignore[arg-type]
        return await stream(server.url, audio, speed=SPEED)


@pytest.fixture(scope="module")
def local_only(whisper_engine: WhisperEngine, speech: np.ndarray) -> str:
    received = run(caption(whisper_engine, speech), timeout=120)
    return final_text(received)


def failover_engine(fake: FakeDeepgram, fallback: WhisperEngine, **cfg: float) -> FailoverEngine:
    config = DeepgramConfig(api_key=KEY, url=fake.url, stall_timeout_s=3.0, max_lag_s=4.0, **cfg)
    return FailoverEngine(DeepgramEngine(config), fallback, probe_every_s=1.0)


def warnings_of(received: list[Received]) -> list[tuple[float, Warning]]:
    return [(r.t, r.message) for r in received if isinstance(r.message, Warning)]


@pytest.mark.parametrize(
    ("faults", "detectable_at_audio_s", "detection_s"),
    [
        (Faults(refuse_status=401), 0.0, 0.0),
        (Faults(refuse_status=429), 0.0, 0.0),
        (Faults(close_after_s=6.0), 6.0, 0.0),
        (Faults(stall_after_s=6.0), 6.0, 3.0),  # stall_timeout_s
        (Faults(delay_s=2.5), 0.0, 4.0),  # replies lag: seen once 4 s behind
    ],
    ids=["401", "429", "close-1011", "stall", "slow"],
)
def test_provider_fault_fails_over_fast_and_loses_no_word(
    whisper_engine: WhisperEngine,
    speech: np.ndarray,
    local_only: str,
    faults: Faults,
    detectable_at_audio_s: float,
    detection_s: float,
) -> None:
    async def scenario() -> tuple[list[Received], FakeDeepgram]:
        async with FakeDeepgram(whisper_engine, KEY) as fake:
            fake.faults = faults
            received = await caption(failover_engine(fake, whisper_engine), speech)
            return received, fake

    received, fake = run(scenario(), timeout=120)
    switches = warnings_of(received)
    # Failover, and perhaps back at an utterance end once the provider answers again.
    assert [w.code for _, w in switches] in (
        [PROVIDER_FAILOVER],
        [PROVIDER_FAILOVER, PROVIDER_FAILBACK],
    ), switches
    at, warning = switches[0]
    assert live_engine_of(warning) == "whisper tiny.en (local)"
    # Within 2 s of the moment the fault could be detected (plus a frame or two of slack).
    assert at <= detectable_at_audio_s / SPEED + detection_s + 2.0 + 0.5, at
    text = final_text(received)
    assert wer(local_only, text) <= 0.12, (local_only, text)  # nothing lost, nothing doubled
    assert len(text.split()) >= len(local_only.split()) - 2
    assert fake.authorizations[0] == f"Token {KEY}"


def test_fails_back_at_an_utterance_end_when_the_provider_recovers(
    whisper_engine: WhisperEngine, speech: np.ndarray, local_only: str
) -> None:
    async def scenario() -> tuple[list[Received], FakeDeepgram]:
        async with FakeDeepgram(whisper_engine, KEY) as fake:
            fake.faults = Faults(refuse_status=429)
            engine = failover_engine(fake, whisper_engine)

            async def recover() -> None:
                # Down through the first handshake (the failover) and one probe after it.
                await until(lambda: len(fake.authorizations) >= 2, 30, "a refused probe")
                fake.faults = Faults()

            recovery = asyncio.create_task(recover())
            received = await caption(engine, speech)
            await recovery
            return received, fake

    received, fake = run(scenario(), timeout=120)
    codes = [w.code for _, w in warnings_of(received)]
    assert codes == [PROVIDER_FAILOVER, PROVIDER_FAILBACK]
    assert live_engine_of(warnings_of(received)[1][1]) == "deepgram nova-2"
    assert any(c.audio_s > 1.0 for c in fake.connections)  # the provider captioned again
    assert wer(local_only, final_text(received)) <= 0.12


def test_a_probe_that_drops_before_the_fail_back_is_never_failed_back_onto(
    whisper_engine: WhisperEngine, speech: np.ndarray, local_only: str
) -> None:
    """Issue 12: a probe whose socket dropped was still used at the next utterance end; the
    local engine was aborted and the audio went nowhere."""

    async def scenario() -> tuple[list[Received], FakeDeepgram]:
        async with FakeDeepgram(whisper_engine, KEY) as fake:
            fake.faults = Faults(close_after_s=2.0, drop_probes_after_s=0.0)
            received = await caption(failover_engine(fake, whisper_engine), speech)
            return received, fake

    received, fake = run(scenario(), timeout=120)
    assert len(fake.connections) >= 3, "the probes connected (and dropped) more than once"
    assert [w.code for _, w in warnings_of(received)] == [PROVIDER_FAILOVER]
    assert wer(local_only, final_text(received)) <= 0.12  # the local engine captioned it all


def test_without_failover_a_refusal_maps_to_our_close_code(whisper_engine: WhisperEngine) -> None:
    async def scenario() -> list[int]:
        codes = []
        async with FakeDeepgram(whisper_engine, KEY) as fake:
            for status in (429, 401):
                fake.faults = Faults(refuse_status=status)
                engine = DeepgramEngine(DeepgramConfig(api_key=KEY, url=fake.url))
                server = TranscriptionServer(engine, ServerConfig(port=0))
                async with server, StreamClient(server.url, StreamParams()) as client:
                    await client.send_audio(b"\x00\x00" * 1600)
                    with pytest.raises(ServerClosed) as info:
                        async for _ in client.messages():
                            pass
                    codes.append(info.value.code)
        return codes

    assert run(scenario(), timeout=60) == [1013, 1011]


def test_api_key_never_reaches_the_logs(
    whisper_engine: WhisperEngine, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "dg-secret-do-not-log-1234"

    async def scenario() -> None:
        async with FakeDeepgram(whisper_engine, secret) as fake:
            engine = failover_engine(fake, whisper_engine)
            await caption(engine, np.zeros(16000, np.float32))
            wrong = DeepgramEngine(DeepgramConfig(api_key=secret + "x", url=fake.url))
            await caption(FailoverEngine(wrong, whisper_engine), np.zeros(8000, np.float32))

    with caplog.at_level(logging.DEBUG):
        run(scenario(), timeout=60)
    ours = [r for r in caplog.records if not r.name.startswith("fake_deepgram")]
    assert any(r.levelno == logging.DEBUG for r in ours)  # debug logging was on
    assert all(secret not in r.getMessage() for r in ours)


def test_the_deepgram_key_never_shows_in_the_config_repr() -> None:
    config = DeepgramConfig(api_key="dg-secret-123", url="wss://api.deepgram.com/v1/listen")
    assert "dg-secret-123" not in repr(config)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("wss://api.deepgram.com/v1/listen", True),
        ("ws://127.0.0.1:8080/v1/listen", True),
        ("ws://localhost:8080/v1/listen", True),
        ("ws://api.deepgram.com/v1/listen", False),  # the key in clear over the network
        ("http://api.deepgram.com/v1/listen", False),
    ],
)
def test_a_deepgram_url_that_would_send_the_key_in_clear_is_refused(
    url: str, allowed: bool
) -> None:
    if allowed:
        assert DeepgramConfig(api_key=KEY, url=url).url == url
    else:
        with pytest.raises(ConfigError, match="wss://"):
            DeepgramConfig(api_key=KEY, url=url)
