"""The client's link rules, pure: no socket, no sleep, time is a number each event carries.

Stream time starts at 0 with the first sample; a server times its messages from the first
sample of *its* connection, which after a reconnect starts where the replay does.
"""

from __future__ import annotations

import random
from typing import Any, TypeVar

import pytest

from app.client.link_machine import (
    Action,
    Confirm,
    Deliver,
    Drop,
    GiveUp,
    LinkConfig,
    LinkMachine,
    LinkState,
    OutageBegan,
    Reconnect,
    ReplayFrom,
    ReportGaps,
    SendCloseStream,
    SendKeepAlive,
    Stalled,
    StateChanged,
)
from app.errors import ClientError, HandshakeRejected, ServerClosed, ServerUnavailable
from app.protocol.close_codes import CloseCode
from app.protocol.messages import Results, Word

A = TypeVar("A")
DROPPED = ServerClosed(1006, "connection lost")
URL = "ws://127.0.0.1:1/ws/transcribe"


def machine(channels: int = 1, seed: int = 7, **config: Any) -> LinkMachine:
    return LinkMachine(LinkConfig(**config), channels, rng=random.Random(seed), now=0.0)


def results(
    start: float, duration: float, *words: tuple[str, float, float], final: bool = True, ch: int = 0
) -> Results:
    """A Results message as a server sends it, on its connection's clock."""
    return Results(
        transcript=" ".join(w for w, _, _ in words),
        is_final=final,
        speech_final=final,
        start=start,
        duration=duration,
        channel=ch,
        channels=2,
        words=tuple(Word(w, s, e) for w, s, e in words),
    )


def only(actions: list[Action], kind: type[A]) -> A:
    found = [a for a in actions if isinstance(a, kind)]
    assert len(found) == 1, f"one {kind.__name__} in {actions}"
    return found[0]


def delivered(actions: list[Action]) -> Results:
    message = only(actions, Deliver).message
    assert isinstance(message, Results)
    return message


def spoken(actions: list[Action]) -> list[tuple[str, float, float]]:
    return [(w.word, round(w.start, 6), round(w.end, 6)) for w in delivered(actions).words]


def stream(link: LinkMachine, start: float, end: float, clock: float | None = None) -> list[Action]:
    """Audio from stream time `start` to `end` sent in 0.1 s frames, from wall time `clock`
    (default: `start`) on, one frame per 0.1 s."""
    actions: list[Action] = []
    wall = start if clock is None else clock
    for k in range(1, round((end - start) * 10) + 1):
        actions += link.audio_sent(round(wall + k / 10, 9), round(start + k / 10, 9))
    return actions


def stalls(actions: list[Action]) -> list[Stalled]:
    return [a for a in actions if isinstance(a, Stalled)]


def test_a_drop_mid_sentence_replays_from_the_last_final_less_context_once() -> None:
    link = machine()
    assert link.connected(0.0, 0.0) == [ReportGaps(), StateChanged(LinkState.STREAMING)]
    stream(link, 0.0, 3.0)
    first = link.received(2.2, results(0.0, 2.0, ("a", 0.1, 0.8), ("b", 0.9, 1.9)))
    assert Confirm(2.0) in first and spoken(first) == [("a", 0.1, 0.8), ("b", 0.9, 1.9)]
    link.received(2.9, results(2.0, 0.9, ("c", 2.1, 2.8), final=False))  # in flight

    lost = link.lost(3.0, DROPPED)
    assert isinstance(lost[0], OutageBegan)
    assert only(lost, StateChanged).state is LinkState.RECONNECTING
    assert link.replay_from() == ReplayFrom(0.5, 2.0)  # the final's end less 1.5 s context

    link.connected(3.5, 0.5)
    # The new server hears from 0.5: "b" again (already final), then "c", ended by a final.
    again = link.received(4.0, results(0.0, 2.5, ("b", 0.4, 1.4), ("c", 1.6, 2.3)))
    assert spoken(again) == [("c", 2.1, 2.8)]  # on the stream's clock, "b" not twice
    assert delivered(again).transcript == "c"
    assert Confirm(3.0) in again
    assert link.stats.replayed_s == pytest.approx(2.5)  # sent up to 3.0, replayed from 0.5


def test_a_drop_during_the_replay_replays_again_from_the_same_settled_point() -> None:
    link = machine()
    link.connected(0.0, 0.0)
    stream(link, 0.0, 3.0)
    finals = link.received(2.2, results(0.0, 2.0, ("a", 0.1, 0.8), ("b", 0.9, 1.9)))
    link.lost(3.0, DROPPED)
    link.connected(3.5, link.replay_from().seconds)
    stream(link, 0.5, 2.5, clock=3.5)  # the replay
    interim = link.received(4.0, results(0.0, 1.8, ("b", 0.4, 1.4), ("c", 1.6, 1.8), final=False))
    assert [w for w, _, _ in spoken(interim)] == ["c"]  # interims drop settled words too
    assert only(link.lost(4.2, DROPPED), StateChanged).state is LinkState.RECONNECTING

    assert link.replay_from() == ReplayFrom(0.5, 2.0)  # nothing new settled: the same point
    link.connected(4.8, 0.5)
    stream(link, 0.5, 3.5, clock=4.8)
    finals += link.received(5.5, results(0.0, 3.0, ("b", 0.4, 1.4), ("c", 1.6, 2.3)))
    finals += link.received(6.0, results(3.0, 0.5, ("d", 3.0, 3.4)))
    said = [w.word for a in finals if isinstance(a, Deliver) for w in delivered([a]).words]
    assert said == ["a", "b", "c", "d"]
    assert link.stats.replayed_s == pytest.approx(2.5 + 2.0)  # each replay counted
    assert link.stats.connects == 3 and link.stats.outages == [0.5, pytest.approx(0.6)]


def test_repeated_drops_back_off_to_the_cap_and_a_connect_resets_it() -> None:
    link = machine(backoff_initial_s=0.5, backoff_cap_s=4.0, give_up_after_s=None)
    delays, now = [], 0.0
    for _ in range(7):
        reconnect = only(link.lost(now, ServerUnavailable(URL, "refused")), Reconnect)
        delays.append(reconnect.after_s)
        now += reconnect.after_s
    assert link.state is LinkState.CONNECTING  # never connected yet
    for delay, base in zip(delays, [0.5, 1, 2, 4, 4, 4, 4], strict=True):
        assert base / 2 <= delay <= base  # jitter takes up to half
    assert len(set(delays)) == 7  # jittered: no two clients in step
    same_seed = machine(backoff_initial_s=0.5, backoff_cap_s=4.0, give_up_after_s=None)
    assert [only(same_seed.lost(0, DROPPED), Reconnect).after_s for _ in range(7)] == delays

    link.connected(now, 0.0)
    reconnect = only(link.lost(now + 1, DROPPED), Reconnect)
    assert reconnect.attempt == 1 and reconnect.after_s <= 0.5
    assert link.state is LinkState.RECONNECTING


def test_continuously_down_for_give_up_after_s_fails() -> None:
    link = machine(give_up_after_s=30.0)
    link.connected(0.0, 0.0)
    assert only(link.lost(10.0, DROPPED), Reconnect)  # the outage begins at 10
    assert only(link.lost(39.0, DROPPED), Reconnect)
    assert only(link.lost(40.0, DROPPED), Reconnect)  # 30 s down: not yet more
    link.connected(41.0, 0.0)  # back: the next outage counts from its own start
    assert only(link.lost(50.0, DROPPED), Reconnect)
    assert only(link.lost(80.0, DROPPED), Reconnect)
    failed = link.lost(80.1, DROPPED)
    assert only(failed, GiveUp).reason == str(DROPPED)
    assert only(failed, StateChanged) == StateChanged(LinkState.FAILED, str(DROPPED))
    assert OutageBegan() not in failed  # the same outage
    assert link.state is LinkState.FAILED


def test_before_the_first_connection_first_connect_give_up_s_applies() -> None:
    link = machine(first_connect_give_up_s=5.0, give_up_after_s=300.0)
    refused = ServerUnavailable(URL, "connection refused")
    assert only(link.lost(1.0, refused), Reconnect)
    assert only(link.lost(6.0, refused), Reconnect)
    assert only(link.lost(6.1, refused), GiveUp)

    later = machine(first_connect_give_up_s=5.0, give_up_after_s=300.0)
    later.connected(0.0, 0.0)  # once connected, the long limit
    assert only(later.lost(1.0, refused), Reconnect)
    assert only(later.lost(100.0, refused), Reconnect)
    assert only(later.lost(301.5, refused), GiveUp)


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (HandshakeRejected(URL, 401, "INVALID_AUTH", "wrong token"), False),
        (HandshakeRejected(URL, 400, "BAD_REQUEST", "bad param"), False),
        (HandshakeRejected(URL, 404, "NOT_FOUND", "wrong path"), False),
        (ServerClosed(4401, "unauthorized"), False),
        (ServerClosed(1008, "policy"), False),
        (ServerClosed(CloseCode.RATE_LIMIT, "too fast"), False),
        (HandshakeRejected(URL, 503, "BUSY", "full"), True),
        (HandshakeRejected(URL, 429, "TOO_MANY", "later"), True),
        (ServerClosed(1006, "connection lost"), True),
        (ServerClosed(1011, "internal error"), True),
        (ServerUnavailable(URL, "refused"), True),
    ],
)
def test_refusals_a_retry_cannot_fix_fail_at_once(error: ClientError, retried: bool) -> None:
    link = machine()
    actions = link.lost(0.0, error)
    if retried:
        assert only(actions, Reconnect).attempt == 1
        assert link.state is LinkState.CONNECTING
    else:
        assert actions == [
            OutageBegan(),
            StateChanged(LinkState.FAILED, str(error)),
            GiveUp(str(error)),
        ]
        assert link.stats.last_error == str(error)


def test_each_channel_keeps_its_own_settled_time_across_a_reconnect() -> None:
    link = machine(channels=2)
    link.connected(0.0, 0.0)
    stream(link, 0.0, 7.0)
    link.received(6.5, results(0.0, 6.0, ("y1", 4.0, 5.9), ch=0))  # "You" settled to 6.0
    lagging = link.received(6.6, results(0.0, 3.0, ("o1", 0.5, 2.9), ch=1))  # "Others" to 3.0
    assert only(lagging, Confirm) == Confirm(3.0)  # the ring keeps what either may replay
    link.lost(7.0, DROPPED)
    assert link.replay_from() == ReplayFrom(1.5, 3.0)  # the lagging channel decides

    link.connected(7.5, 1.5)
    you = link.received(8.0, results(0.0, 6.0, ("y1", 2.5, 4.4), ("y2", 4.6, 5.8), ch=0))
    others = link.received(8.1, results(0.0, 6.0, ("o1", 0.0, 1.4), ("o2", 2.0, 5.0), ch=1))
    assert spoken(you) == [("y2", 6.1, 7.3)]  # "y1" ended at 5.9: settled on channel 0
    # "o2" ends at 6.5, before channel 0's 7.5 by now, but after channel 1's 3.0: kept.
    assert spoken(others) == [("o2", 3.5, 6.5)]
    assert link.settled_s == [7.5, 7.5]
    assert only(others, Confirm) == Confirm(7.5)


def test_a_server_silent_while_audio_flows_has_stalled() -> None:
    link = machine(quiet_server_s=10.0)
    link.connected(0.0, 0.0)
    link.received(1.05, results(0.0, 1.0, ("a", 0.2, 0.9)))
    assert stalls(stream(link, 0.0, 11.0)) == []  # silent 9.95 s of audio: not yet
    assert stalls(stream(link, 11.0, 13.0)) == [Stalled(pytest.approx(10.05))]  # once
    assert link.tick(13.05) == []  # not again at every frame or tick
    assert link.state is LinkState.STREAMING  # a live peer is reported, not dropped

    link.received(13.5, results(1.0, 12.0, ("b", 12.0, 12.5)))  # it speaks again
    assert stalls(stream(link, 13.0, 23.5)) == []
    assert stalls(stream(link, 23.5, 25.0)) == [Stalled(pytest.approx(10.1))]
    assert link.stats.stalls == 2


def test_a_pause_is_not_a_stall_and_keepalives_go_on() -> None:
    link = machine(quiet_server_s=10.0, keepalive_s=4.0)
    link.connected(0.0, 0.0)
    stream(link, 0.0, 5.0)
    link.received(4.0, results(0.0, 4.0, ("a", 1.0, 3.8)))  # then it holds its reply
    link.pause(5.0)
    ticks = [a for k in range(1, 121) for a in link.tick(5.0 + k / 2)]  # 60 s paused
    assert ticks == [SendKeepAlive()] * 15  # at 9, 13, ... 65: one every keepalive_s
    assert link.keepalive_in(65.5) == pytest.approx(3.5)
    link.resume(65.0)
    assert stalls(stream(link, 5.0, 14.0, clock=65.0)) == []  # silence counts from here
    assert link.stats.stalls == 0

    # A short pause too: the silence before it (8.5 s) and after (4 s) do not add up.
    short = machine(quiet_server_s=10.0, keepalive_s=4.0)
    short.connected(0.0, 0.0)
    short.received(0.5, None)
    stream(short, 0.0, 9.0)
    short.pause(9.0)
    assert [a for k in range(1, 5) for a in short.tick(9.0 + k / 2)] == []  # 2 s: no KeepAlive
    short.resume(11.0)
    assert stalls(stream(short, 9.0, 13.0, clock=11.0)) == []

    # Audio that stopped keepalive_s or more without a word is a pause as well.
    quiet = machine(quiet_server_s=10.0, keepalive_s=4.0)
    quiet.connected(0.0, 0.0)
    stream(quiet, 0.0, 5.0)
    quiet.received(4.0, None)
    assert [a for k in range(1, 41) for a in quiet.tick(5.0 + k / 2)] == [SendKeepAlive()] * 5
    assert stalls(stream(quiet, 5.0, 14.0, clock=25.0)) == []


def test_finishing_closes_once_all_is_sent_and_an_early_end_is_a_loss() -> None:
    link = machine()
    link.connected(0.0, 0.0)
    stream(link, 0.0, 1.0)
    early = only(link.ended(1.5, 0.0), Drop).error
    assert isinstance(early, ServerClosed) and early.code == 1000
    link.lost(1.5, ServerClosed(1000, "server ended the stream early"))
    link.connected(2.0, 0.0)
    link.finish(2.1)
    assert link.tick(2.2) == [SendCloseStream()]
    assert link.tick(2.3) == []  # once per connection
    assert only(link.ended(2.5, 0.1), Drop)  # audio still unsent: not the end
    link.lost(2.5, ServerClosed(1000, "server ended the stream early"))
    link.connected(3.0, 0.0)
    assert link.tick(3.1) == [SendCloseStream()]  # the next connection closes again
    assert link.ended(3.2, 0.0) == [ReportGaps(), StateChanged(LinkState.CLOSED)]


def test_a_file_waits_for_the_server_to_settle_unless_it_stays_quiet() -> None:
    link = machine(replay_cover_s=4.0, quiet_server_s=1.5)
    assert link.holds_back(0.0, 1.0, unsent_s=1.5, unsettled_s=1.5)  # too far ahead unsent
    assert not link.holds_back(0.0, 1.0, unsent_s=0.5, unsettled_s=3.0)
    assert link.holds_back(1.0, 1.0, unsent_s=0.5, unsettled_s=3.2)  # beyond cover less ahead
    assert not link.holds_back(1.6, 1.0, unsent_s=0.5, unsettled_s=3.2)  # quiet 1.6 s: go on
    link.received(1.7, None)  # any frame is a sign of life
    assert link.holds_back(2.0, 1.0, unsent_s=0.5, unsettled_s=3.2)
    link.lost(2.0, HandshakeRejected(URL, 401, "INVALID_AUTH", "no"))
    assert not link.holds_back(2.0, 1.0, unsent_s=5.0, unsettled_s=5.0)  # failed: no waiting
