"""Auto's step-down and step-up, with engine doubles that hear words in the audio (fast).

The "better" double falls behind while it is stalled (its backlog grows as a too-slow model's
does); the "fast" double keeps up. Words are one per second of audio ("w1", "w2", ...), so a
lost or doubled word, or one misheard for want of replayed context ("?"), shows in the finals.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.commands.transcribe import TranscribeOptions, run_transcribe
from app.protocol.messages import (
    MODEL_STEP_DOWN,
    MODEL_STEP_UP,
    Results,
    ServerMessage,
    Warning,
    live_engine_of,
    provider_switch,
)
from app.protocol.params import StreamParams
from app.server.engines.stepdown import ARRIVALS_KEPT_S, AutoEngine, AutoSession, StepPolicy
from app.server.server import ServerConfig, TranscriptionServer
from tests.conftest import run
from tests.fakes import LaggingLevelWordsEngine, level_audio
from tests.waiting import until

RATE = 16000
FRAME = RATE // 10
# The rule: more than 3 s behind for 10 s steps down; back up after 60 s at first.
POLICY = StepPolicy(check_every_s=1000)  # only the fed blocks look at the backlog here


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def doubles(policy: StepPolicy = POLICY) -> tuple[AutoEngine, LaggingLevelWordsEngine, FakeClock]:
    # Finals end 0.2 s past their word, as a real engine's do, so a replay that starts at the
    # last final's end cuts into the next word, and the engine that takes over mishears it.
    better = LaggingLevelWordsEngine("base-double", overhang_s=0.2)
    fast = LaggingLevelWordsEngine("tiny-double", languages=("en",), overhang_s=0.2)
    clock = FakeClock()
    return AutoEngine(better, fast, policy=policy, clock=clock), better, clock


Stalls = list[tuple[float, float]]  # (from, until) seconds of audio: the better model lags


async def caption_live(
    engine: AutoEngine,
    better: LaggingLevelWordsEngine,
    clock: FakeClock,
    audio: np.ndarray,
    stalls: Stalls,
    *,
    clock_per_audio_s: float = 1.0,
    language: str = "en",
) -> tuple[list[ServerMessage], list[tuple[float, Warning]], AutoSession]:
    """Feed `audio` frame by frame while the clock runs `clock_per_audio_s` per audio second."""
    emitted: list[ServerMessage] = []
    warnings: list[tuple[float, Warning]] = []

    def emit(message: ServerMessage) -> None:
        emitted.append(message)
        if isinstance(message, Warning):
            warnings.append((clock.now, message))

    session = engine.open_session(StreamParams(sample_rate=RATE, language=language), emit)
    for offset in range(0, len(audio), FRAME):
        at = offset / RATE
        better.stalled = any(start <= at < end for start, end in stalls)
        if not better.stalled:
            for lagging in better.sessions:
                lagging.catch_up()
        clock.now = at * clock_per_audio_s
        session.feed([audio[offset : offset + FRAME]])
        await asyncio.sleep(0)
    better.stalled = False
    await session.close()
    return emitted, warnings, session


def final_words(emitted: list[ServerMessage]) -> list[str]:
    return [w.word for m in emitted if isinstance(m, Results) and m.is_final for w in m.words]


def words(count: int) -> list[str]:
    return [f"w{level}" for level in range(1, count + 1)]


def test_a_session_that_falls_behind_steps_down_then_back_up_losing_no_word() -> None:
    audio = level_audio(list(range(1, 91)), 1.0)  # 90 one-second words
    engine, better, clock = doubles()
    # base lags from 3 s; it could keep up again from 40 s (but the session is on tiny.en).
    emitted, warnings, session = run(caption_live(engine, better, clock, audio, [(3.0, 40.0)]))

    assert final_words(emitted) == words(90)
    assert [w.code for _, w in warnings] == [MODEL_STEP_DOWN, MODEL_STEP_UP]
    (down_at, down), (up_at, up) = warnings
    # Over 3 s behind from 6 s of audio on; 10 s later it steps down.
    assert 16.0 <= down_at <= 16.5
    assert live_engine_of(down) == "levels tiny-double"
    assert "base-double fell 13.1 s behind" in down.message  # 3 s + 10 s of audio
    # Back up at the first utterance end 60 s after the step-down.
    assert down_at + 60 <= up_at <= down_at + 61.5
    assert live_engine_of(up) == "levels base-double"
    assert session.on_better
    assert len(engine.fast.sessions) == 1  # type: ignore[attr-defined]
    assert len(better.sessions) == 2


def test_finals_that_come_late_step_down_though_the_backlog_stays_small() -> None:
    """What a reader notices: base's words final 5 s after they were said (its decodes are
    slow, yet it never queues 3 s of audio). 10 s of that steps down; tiny.en's come at once."""
    audio = level_audio(list(range(1, 41)), 1.0)
    engine, better, clock = doubles()
    better.late_by_s = 5.0
    emitted, warnings, session = run(caption_live(engine, better, clock, audio, []))

    assert final_words(emitted) == words(40)
    assert [w.code for _, w in warnings] == [MODEL_STEP_DOWN]
    down_at, down = warnings[0]
    # The first final comes at 5.9 s (w1 ends at 0.9 s), late; 10 s later the step-down.
    assert 15.5 <= down_at <= 17.0
    assert "base-double's captions came 5.0 s after the words" in down.message
    assert not session.on_better


def test_what_times_the_finals_stays_bounded_in_a_long_session() -> None:
    audio = level_audio([0] * 299 + [1], 1.0)  # five minutes of silence: no final to trim by
    engine, better, clock = doubles()
    _, warnings, session = run(caption_live(engine, better, clock, audio, []))
    assert warnings == []
    kept = session._arrivals  # (stream s, clock) of each 100 ms block
    assert len(kept) <= 2 * ARRIVALS_KEPT_S / 0.1 + 1
    assert kept[-1][0] == pytest.approx(300.0)


def test_finals_on_time_do_not_step_down() -> None:
    audio = level_audio(list(range(1, 41)), 1.0)
    engine, better, clock = doubles()
    better.late_by_s = 3.5  # late, but under the 4 s a reader is given
    emitted, warnings, session = run(caption_live(engine, better, clock, audio, []))
    assert final_words(emitted) == words(40)
    assert warnings == [] and session.on_better


def test_each_further_step_down_doubles_the_wait_before_stepping_up() -> None:
    audio = level_audio(list(range(1, 251)), 1.0)
    engine, better, clock = doubles()
    stalls = [(3.0, 40.0), (90.0, 110.0)]  # the second lag comes after the first step-up
    emitted, warnings, _ = run(caption_live(engine, better, clock, audio, stalls))

    assert final_words(emitted) == words(250)
    codes = [w.code for _, w in warnings]
    assert codes == [MODEL_STEP_DOWN, MODEL_STEP_UP, MODEL_STEP_DOWN, MODEL_STEP_UP]
    (_, _), (_, _), (second_down, _), (second_up, _) = warnings
    assert second_down + 120 <= second_up <= second_down + 121.5


def test_a_short_lag_does_not_step_down() -> None:
    """Behind for less than 10 s (a long decode, another program busy a moment) is fine."""
    audio = level_audio(list(range(1, 31)), 1.0)
    engine, better, clock = doubles()
    emitted, warnings, session = run(caption_live(engine, better, clock, audio, [(3.0, 15.5)]))

    assert warnings == []  # over 3 s behind from 6 s to 15.5 s: 9.5 s
    assert final_words(emitted) == words(30)
    assert session.on_better


def test_a_recording_sent_faster_than_real_time_does_not_step_down() -> None:
    """Its backlog is the client's doing: the engine may keep real time all along."""
    audio = level_audio(list(range(1, 61)), 1.0)
    engine, better, clock = doubles()
    emitted, warnings, _ = run(
        caption_live(engine, better, clock, audio, [(3.0, 60.0)], clock_per_audio_s=0.5)
    )

    assert warnings == []
    assert final_words(emitted) == words(60)


def test_a_recording_sent_faster_than_real_time_with_slow_finals_does_not_step_down() -> None:
    """Sent at twice real time, audio comes in long before it could be said: how long its
    finals take after it came says nothing a reader of live captions would notice."""
    audio = level_audio(list(range(1, 41)), 1.0)
    engine, better, clock = doubles()
    better.late_by_s = 10.0  # 5 s on the clock: late, were it live
    emitted, warnings, _ = run(
        caption_live(engine, better, clock, audio, [], clock_per_audio_s=0.5)
    )
    assert warnings == []
    assert final_words(emitted) == words(40)


def test_a_session_the_fast_model_cannot_serve_stays_on_the_better_one() -> None:
    audio = level_audio(list(range(1, 31)), 1.0)
    engine, better, clock = doubles()
    emitted, warnings, _ = run(
        caption_live(engine, better, clock, audio, [(3.0, 30.0)], language="de")
    )

    assert warnings == []
    assert engine.fast.sessions == []  # type: ignore[attr-defined]
    assert final_words(emitted) == words(30)


def test_a_stalled_engine_steps_down_even_when_no_more_audio_comes() -> None:
    """Far behind, the server stops reading audio (backpressure): the watch must not need
    a fed block to notice."""
    policy = StepPolicy(behind_s=1.0, behind_for_s=0.3, check_every_s=0.05)
    better = LaggingLevelWordsEngine("base-double")
    fast = LaggingLevelWordsEngine("tiny-double", languages=("en",))
    engine = AutoEngine(better, fast, policy=policy)  # the real clock
    audio = level_audio(list(range(1, 6)), 1.0)

    async def scenario() -> list[ServerMessage]:
        emitted: list[ServerMessage] = []
        session = engine.open_session(StreamParams(sample_rate=RATE), emitted.append)
        better.stalled = True
        session.feed([audio])
        await until(lambda: not session.on_better, 5, "the step-down")
        await session.close()
        return emitted

    emitted = run(scenario())
    assert [m.code for m in emitted if isinstance(m, Warning)] == [MODEL_STEP_DOWN]
    assert final_words(emitted) == words(5)


@pytest.mark.parametrize("code", [MODEL_STEP_DOWN, MODEL_STEP_UP])
def test_a_model_switch_names_the_live_engine_as_a_provider_switch_does(code: str) -> None:
    """The app's status and `transcribe` show the live engine from this (live_engine_of)."""
    warning = provider_switch(code, "whisper tiny.en", "base fell 3.4 s behind real time")
    assert live_engine_of(warning) == "whisper tiny.en"


def test_transcribe_says_which_model_captions_after_a_step_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through a real server: the Warning reaches the client and the CLI names the model."""
    policy = StepPolicy(behind_s=1.0, behind_for_s=2.0, check_every_s=1000)
    better = LaggingLevelWordsEngine("base-double")
    fast = LaggingLevelWordsEngine("tiny-double", languages=("en",))
    # Time passes as audio arrives (a live stream), however fast the file is sent.
    engine = AutoEngine(better, fast, policy=policy, clock=lambda: better.fed_s + fast.fed_s)
    path = tmp_path / "words.wav"
    soundfile.write(path, level_audio(list(range(1, 13)), 1.0), RATE, subtype="PCM_16")

    async def scenario() -> int:
        better.stalled = True
        async with TranscriptionServer(engine, ServerConfig(port=0)) as server:
            return await run_transcribe(
                TranscribeOptions(audio=path, server=server.url), out=io.StringIO()
            )

    assert run(scenario()) == 0
    err = capsys.readouterr().err
    assert "captionist: now captioning with levels tiny-double (switched to" in err
    assert len(fast.sessions) == 1
