"""Both mode without headphones: the mic hears the call. Each sentence shows once, as Others."""

from __future__ import annotations

import numpy as np

from app.domain.echo import EchoRule
from app.domain.transcript import Segment
from app.server.server import ServerConfig, TranscriptionServer
from app.services.caption_events import CaptionListener
from app.services.captioning import CaptionService
from tests.conftest import run
from tests.fake_sources import StereoSource
from tests.fakes import LEVEL_STEP, LevelWordsEngine, level_audio

RATE = 16000


def test_the_mic_hearing_the_others_is_hidden_and_counted_and_the_user_still_shows() -> None:
    """Others say w1 w2 w3 (0.1-3.0 s); the mic hears them 150 ms later, then the user alone
    says w9 (3.5-4.4 s). The transcript has w1-w3 once, as Others, and w9 as You."""
    others = level_audio([1, 2, 3, 0, 0], 1.0)
    mic = np.concatenate([np.zeros(round(0.15 * RATE), dtype=np.float32), others])[: len(others)]
    mic[round(3.5 * RATE) : round(4.4 * RATE)] = 9 * LEVEL_STEP
    shown: list[Segment] = []

    async def scenario() -> CaptionService:
        async with TranscriptionServer(LevelWordsEngine(), ServerConfig(port=0)) as server:
            service = CaptionService(server.url, listener=CaptionListener(final=shown.append))
            await service.run(StereoSource(np.stack([mic, others], axis=1)))
            return service

    service = run(scenario())
    words = sorted((s.start, s.source, s.text) for s in service.transcript.finals)
    assert [(source, text) for _, source, text in words] == [
        ("Others", "w1"),
        ("Others", "w2"),
        ("Others", "w3"),
        ("You", "w9"),
    ]
    assert sorted(s.text for s in shown) == ["w1", "w2", "w3", "w9"]
    assert service.figures.echoes_hidden == 3
    assert service.figures.finals == 4


def test_the_user_alone_is_shown_when_the_hold_runs_out_while_the_stream_goes_on() -> None:
    """Nothing comes on Others to settle it, and no message comes in the silence after w9
    (4.4 s): the hold ends on the stream clock (audio sent), not at the end of the stream."""
    mic = level_audio([0, 0, 0, 0, 9] + [0] * 9, 1.0)
    others = np.zeros_like(mic)
    shown_at: list[tuple[str, float]] = []
    services: list[CaptionService] = []

    def final(segment: Segment) -> None:
        shown_at.append((segment.text, services[0].figures.audio_sent_s))

    async def scenario() -> CaptionService:
        async with TranscriptionServer(LevelWordsEngine(), ServerConfig(port=0)) as server:
            service = CaptionService(server.url, listener=CaptionListener(final=final))
            services.append(service)
            await service.run(StereoSource(np.stack([mic, others], axis=1), pause_s=0.01))
            return service

    service = run(scenario())
    assert [text for text, _ in shown_at] == ["w9"]
    hold_end = 5.0 + EchoRule().max_hold_s  # at the earliest: held from when it came
    assert hold_end <= shown_at[0][1] < 14.0 - 1.0
    assert service.figures.echoes_hidden == 0


def test_the_session_figures_say_which_echo_cancelling_the_source_has() -> None:
    """Both mode's source says whether the sound server cancels the echo (app/audio/
    echo_cancelled_mic.py); the figures carry it to the status bar. Others say nothing."""
    audio = np.stack([level_audio([0], 0.5)] * 2, axis=1)
    cancelled = StereoSource(audio)
    cancelled.echo_cancelling = "sound server (WebRTC)"  # type: ignore[attr-defined]

    async def scenario(source: StereoSource) -> CaptionService:
        async with TranscriptionServer(LevelWordsEngine(), ServerConfig(port=0)) as server:
            service = CaptionService(server.url)
            await service.run(source)
            return service

    assert run(scenario(cancelled)).figures.echo_cancelling == "sound server (WebRTC)"
    assert run(scenario(StereoSource(audio))).figures.echo_cancelling == ""
