"""Pause and the Deepgram stall watchdog (issue 12), with engine doubles (fast).

A paused client sends no audio, and Deepgram then sends nothing either: it holds the reply to
the last audio until more comes. The app's Pause (CaptionService.pause) goes through a real
server with the failover engine to the fake Deepgram, which holds its replies as the real one
can; the words are heard in the audio itself (tests.fakes.LevelWordsEngine), so a lost or
doubled word shows.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from app.audio.base import Block
from app.audio.file_source import DecodedAudio
from app.audio.replay import FileReplaySource
from app.protocol.messages import PROVIDER_FAILOVER
from app.server.engines.deepgram import DeepgramConfig, DeepgramEngine
from app.server.engines.failover import FailoverEngine
from app.server.server import ServerConfig, TranscriptionServer
from app.services.caption_events import CaptionListener, CaptionState
from app.services.captioning import CaptionService
from tests.conftest import run
from tests.fake_deepgram import FakeDeepgram, Faults
from tests.fakes import LevelWordsEngine, level_audio

RATE = 16000
KEY = "dg-test-key"
STALL_TIMEOUT_S = 2.0
# Three 1 s words, 5 s of silence, three more: the Pause falls in the silence, so every word
# is sent and must come back once.
AUDIO = np.concatenate(
    [level_audio([1, 2, 3], 1.0), np.zeros(5 * RATE, np.float32), level_audio([4, 5, 6], 1.0)]
)
WORDS = "w1 w2 w3 w4 w5 w6"
PAUSE_AT_S, RESUME_AT_S = 3.5, 7.6  # source positions: 4.1 s paused, twice the stall timeout
SENT_BEFORE_PAUSE_S = 3.4  # the block that ends at PAUSE_AT_S is the first one not sent


class PausingSource:
    """A live source whose user presses Pause at `PAUSE_AT_S` and Resume at `RESUME_AT_S`."""

    def __init__(self) -> None:
        self.inner = FileReplaySource(Path("pause.wav"), audio=DecodedAudio(AUDIO, RATE))
        self.info = self.inner.info
        self.service: CaptionService | None = None
        self.paused_at: float | None = None  # monotonic times of the presses
        self.resumed_at: float | None = None
        self.dropouts = self.inner.dropouts  # a file never drops audio
        self.level, self.failure, self.echo_cancelling = 0.0, None, ""

    async def start(self) -> None:
        await self.inner.start()
        self.info = self.inner.info

    async def blocks(self) -> AsyncIterator[Block]:
        assert self.service is not None
        async for block in self.inner.blocks():
            position = self.inner.position_s
            if self.paused_at is None and position >= PAUSE_AT_S:
                assert self.service.state is CaptionState.STREAMING
                self.service.pause()
                self.paused_at = time.monotonic()
            elif self.resumed_at is None and position >= RESUME_AT_S:
                self.service.resume()
                self.resumed_at = time.monotonic()
            yield block

    async def stop(self) -> None:
        await self.inner.stop()


def caption_with_a_pause(
    faults: Faults,
) -> tuple[CaptionService, PausingSource, list[tuple[str, float]], FakeDeepgram, LevelWordsEngine]:
    """The app captions `AUDIO` on Deepgram (failing over to a local engine), pausing in the
    silence; returns the warnings it showed, each with the audio sent by then."""
    fallback = LevelWordsEngine()
    warnings: list[tuple[str, float]] = []
    source = PausingSource()

    async def scenario() -> tuple[CaptionService, FakeDeepgram]:
        async with FakeDeepgram(LevelWordsEngine(), KEY) as fake:
            fake.faults = faults
            fake.holds_replies = True
            fake.idle_close_s = 1.5  # Deepgram's 10 s, shorter than the pause
            config = DeepgramConfig(
                api_key=KEY, url=fake.url, stall_timeout_s=STALL_TIMEOUT_S, keepalive_s=0.5
            )
            engine = FailoverEngine(DeepgramEngine(config), fallback, probe_every_s=1000)
            async with TranscriptionServer(engine, ServerConfig(port=0)) as server:
                service = CaptionService(
                    server.url,
                    listener=CaptionListener(
                        warning=lambda warning: warnings.append(
                            (warning.code, service.figures.audio_sent_s)
                        )
                    ),
                )
                source.service = service
                await service.run(source)  # type: ignore[arg-type]
                return service, fake

    service, fake = run(scenario(), timeout=60)
    assert source.paused_at is not None and source.resumed_at is not None
    assert source.resumed_at - source.paused_at > STALL_TIMEOUT_S + 1.0  # paused long enough
    return service, source, warnings, fake, fallback


def test_a_pause_longer_than_the_stall_timeout_never_fails_over() -> None:
    service, _, warnings, fake, fallback = caption_with_a_pause(Faults())
    assert warnings == []  # no PROVIDER_FAILOVER
    assert fallback.sessions == []  # the local engine never took over
    assert len(fake.connections) == 1  # one Deepgram connection throughout
    assert fake.connections[0].audio_s == pytest.approx(service.figures.audio_sent_s)
    assert service.transcript.text == WORDS  # nothing lost, nothing doubled


def test_a_provider_that_stalls_before_a_pause_fails_over_once_audio_flows_again() -> None:
    """The stall clock only stops while no audio is sent: a Deepgram that went silent just
    before the Pause is still caught, within the stall timeout of audio after the Resume."""
    service, _, warnings, _, fallback = caption_with_a_pause(Faults(stall_after_s=3.05))
    assert [code for code, _ in warnings] == [PROVIDER_FAILOVER]
    (sent_at_failover,) = [sent for _, sent in warnings]
    resumed = SENT_BEFORE_PAUSE_S + 0.05  # a failover with this much sent came in the pause
    assert resumed < sent_at_failover <= resumed + STALL_TIMEOUT_S + 1.0
    assert fallback.sessions  # the local engine took over
    assert service.transcript.text == WORDS
