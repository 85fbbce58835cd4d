"""The engine switch shared by the provider failover and Auto's step-down (issue 21).

One sequence serves both policies: open the next engine's session through the handover and
replay the kept audio into it, abort the old one, then say so with a Warning that carries the
live engine in its own field. Fast: engine doubles, no model, no network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest

from app.protocol.messages import (
    MODEL_STEP_DOWN,
    MODEL_STEP_UP,
    PROVIDER_FAILBACK,
    PROVIDER_FAILOVER,
    Results,
    ServerMessage,
    Warning,
    encode,
    live_engine_of,
    parse_server_message,
)
from app.protocol.params import StreamParams
from app.protocol.pcm import FloatArray
from app.server.engines.base import Emit
from app.server.engines.deepgram import ProviderFailure
from app.server.engines.failover import FailoverEngine, FailoverSession
from app.server.engines.stepdown import AutoEngine, AutoSession, StepPolicy
from app.server.engines.switching import Opener, SwitchingSession
from tests.conftest import run
from tests.fake_clock import FakeClock
from tests.fakes import LaggingLevelWordsEngine, LevelWordsEngine, LevelWordsSession, level_audio

RATE = 16000
FRAME = RATE // 10


class RecordedSession:
    """Writes what is asked of it to the journal; `on_close` runs when it is closed."""

    def __init__(self, name: str, journal: list[str], relay: Emit) -> None:
        self.name = name
        self.journal = journal
        self.relay = relay
        self.backlog = 0.0
        self.on_close: Any = None

    def feed(self, channels: list[FloatArray]) -> None:
        self.journal.append(f"{self.name} fed {len(channels[0])}")

    def finalize(self) -> None:
        self.journal.append(f"{self.name} finalize")

    async def close(self) -> None:
        self.journal.append(f"{self.name} close")
        if self.on_close is not None:
            self.on_close()

    def abort(self) -> None:
        self.journal.append(f"{self.name} abort")

    @property
    def backlog_s(self) -> float:
        return self.backlog


class ByHand(SwitchingSession):
    """A policy that switches when told to: what is left under test is the shared sequence."""

    def __init__(self, journal: list[str]) -> None:
        def emit(message: ServerMessage) -> None:
            if isinstance(message, Warning):
                journal.append(f"warning {message.code} engine={message.engine}")
            elif isinstance(message, Results):
                journal.append(f"results {message.transcript}")

        super().__init__(StreamParams(sample_rate=RATE), emit)
        self.journal = journal
        self.sessions: dict[str, RecordedSession] = {}
        self._start(self._opener("first"))

    def _opener(self, name: str) -> Opener:
        def open_session(relay: Emit) -> RecordedSession:
            self.journal.append(f"open {name}")
            self.sessions[name] = RecordedSession(name, self.journal, relay)
            return self.sessions[name]

        return open_session

    def switch_to(self, name: str) -> None:
        self._switch(self._opener(name), MODEL_STEP_DOWN, f"double {name}", "told to")

    def _stop_watching(self) -> None:
        self.journal.append("stop watching")


def test_a_switch_replays_into_the_new_session_aborts_the_old_then_names_the_new() -> None:
    journal: list[str] = []

    async def scenario() -> ByHand:
        session = ByHand(journal)
        session.feed([np.zeros(RATE, np.float32)])  # nothing final yet: all of it is kept
        session.switch_to("second")
        return session

    session = run(scenario())
    assert journal == [
        "open first",
        "first fed 16000",
        "open second",
        "second fed 16000",  # the replay, before anything is said
        "first abort",
        "warning MODEL_STEP_DOWN engine=double second",
    ]
    journal.clear()
    words = Results("late", True, True, 0.0, 1.0)
    session.sessions["first"].relay(words)  # muted: the replay covers its words in flight
    session.sessions["second"].relay(words)
    assert journal == ["results late"]


def test_the_live_session_is_fed_finalized_closed_and_asked_its_backlog() -> None:
    journal: list[str] = []

    async def scenario() -> None:
        session = ByHand(journal)
        session.switch_to("second")
        session.sessions["second"].backlog = 2.5
        journal.clear()
        session.feed([np.zeros(FRAME, np.float32)])
        session.finalize()
        assert session.backlog_s == 2.5
        await session.close()

    run(scenario())
    assert journal == ["second fed 1600", "second finalize", "second close", "stop watching"]


def test_a_switch_during_the_close_closes_the_session_that_took_over_too() -> None:
    """A provider failing while the session closes: the local engine settles the rest."""
    journal: list[str] = []

    async def scenario() -> None:
        session = ByHand(journal)
        session.sessions["first"].on_close = lambda: session.switch_to("second")
        journal.clear()
        await session.close()

    run(scenario())
    assert journal == [
        "first close",
        "open second",
        "first abort",
        "warning MODEL_STEP_DOWN engine=double second",
        "second close",
        "stop watching",
    ]


def test_an_abort_stops_the_live_session_and_the_watching() -> None:
    journal: list[str] = []

    async def scenario() -> None:
        session = ByHand(journal)
        journal.clear()
        session.abort()

    run(scenario())
    assert journal == ["first abort", "stop watching"]


# -- both policies drive that one sequence ---------------------------------------------------

Switches = list[tuple[str, str, str]]  # (session class, code, live engine)


@pytest.fixture
def switches(monkeypatch: pytest.MonkeyPatch) -> Switches:
    """Every switch made through `SwitchingSession._switch`, by whichever policy."""
    made: Switches = []
    shared = SwitchingSession._switch

    def spy(self: SwitchingSession, opener: Opener, code: str, live: str, reason: str) -> None:
        made.append((type(self).__name__, code, live))
        shared(self, opener, code, live, reason)

    monkeypatch.setattr(SwitchingSession, "_switch", spy)
    return made


def final_words(emitted: list[ServerMessage]) -> list[str]:
    return [w.word for m in emitted if isinstance(m, Results) and m.is_final for w in m.words]


def live_engines(emitted: list[ServerMessage]) -> list[str | None]:
    """As a client reads them: off the wire, from the field."""
    wire = [parse_server_message(encode(m)) for m in emitted if isinstance(m, Warning)]
    return [live_engine_of(w) for w in wire if isinstance(w, Warning)]


def test_the_policies_keep_no_switch_sequence_of_their_own() -> None:
    for policy in (FailoverSession, AutoSession):
        assert issubclass(policy, SwitchingSession)
        for name in ("_switch", "_start", "finalize", "close", "abort", "backlog_s"):
            assert name not in vars(policy), f"{policy.__name__} repeats {name}"


async def caption(
    engine: AutoEngine | FailoverEngine, play: Callable[[SwitchingSession], Awaitable[None]]
) -> list[ServerMessage]:
    """What a session on `engine` emits while `play` feeds it, through its close."""
    emitted: list[ServerMessage] = []
    session = engine.open_session(StreamParams(sample_rate=RATE), emitted.append)
    await play(session)
    await session.close()
    return emitted


def assert_switched(emitted: list[ServerMessage], words: int, live: list[str]) -> None:
    assert live_engines(emitted) == live
    assert final_words(emitted) == [f"w{k}" for k in range(1, words + 1)]  # none lost, none twice


def test_a_step_down_and_up_go_through_the_shared_switch(switches: Switches) -> None:
    better = LaggingLevelWordsEngine("base-double", overhang_s=0.2)
    fast = LaggingLevelWordsEngine("tiny-double", languages=("en",), overhang_s=0.2)
    clock = FakeClock()
    policy = StepPolicy(behind_s=1.0, behind_for_s=2.0, step_up_after_s=5.0, check_every_s=1000)
    engine = AutoEngine(better, fast, policy=policy, clock=clock)
    audio = level_audio(list(range(1, 16)), 1.0)

    async def play(session: SwitchingSession) -> None:
        for offset in range(0, len(audio), FRAME):
            clock.set(offset / RATE)
            better.stalled = 2.0 <= clock.now < 6.0  # behind from 3 s: down at 5 s, up later
            session.feed([audio[offset : offset + FRAME]])

    emitted = run(caption(engine, play))
    assert switches == [
        ("AutoSession", MODEL_STEP_DOWN, "levels tiny-double"),
        ("AutoSession", MODEL_STEP_UP, "levels base-double"),
    ]
    assert_switched(emitted, 15, ["levels tiny-double", "levels base-double"])
    assert all(s.closed for s in [*better.sessions, *fast.sessions])  # the old ones aborted


class ProviderSession(LevelWordsSession):
    """A provider that hears words in the audio, connects at once, and fails when told to."""

    def __init__(
        self,
        engine: Provider,
        params: StreamParams,
        emit: Emit,
        on_failure: Any,
    ) -> None:
        super().__init__(engine, params, emit)
        self.on_failure = on_failure
        self.failure: ProviderFailure | None = None
        self.connected: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.connected.set_result(True)


class Provider(LevelWordsEngine):
    name = "deepgram"
    model_name = "nova-2"
    selection_note = ""

    def open_session(  # type: ignore[override]
        self, params: StreamParams, emit: Emit, on_failure: Any
    ) -> ProviderSession:
        return ProviderSession(self, params, emit, on_failure)


def test_a_failover_and_fail_back_go_through_the_shared_switch(switches: Switches) -> None:
    provider, local = Provider(overhang_s=0.2), LevelWordsEngine(overhang_s=0.2)
    engine = FailoverEngine(provider, local, probe_every_s=0.01)  # type: ignore[arg-type]
    audio = level_audio(list(range(1, 9)), 1.0)

    async def play(session: SwitchingSession) -> None:
        session.feed([audio[: 3 * RATE]])
        provider.sessions[0].on_failure(ProviderFailure("PROVIDER_CLOSED", "gone"))  # type: ignore[attr-defined]
        await asyncio.sleep(0.1)  # a probe connects
        session.feed([audio[3 * RATE :]])  # the next utterance end fails back

    emitted = run(caption(engine, play))
    assert switches == [
        ("FailoverSession", PROVIDER_FAILOVER, "levels levels (local)"),
        ("FailoverSession", PROVIDER_FAILBACK, "deepgram nova-2"),
    ]
    assert_switched(emitted, 8, ["levels levels (local)", "deepgram nova-2"])
    assert provider.sessions[0].closed and local.sessions[0].closed  # the old ones aborted
