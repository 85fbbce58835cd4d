"""ReconnectingStream against real servers on loopback: restarts, outages, blackholes.

The ClockEngine names every second of stream audio ("s0", "s1", ...), so a transcript with
nothing missing and nothing doubled is exactly the list of seconds sent.
"""

from __future__ import annotations

import asyncio
import socket
import time

import numpy as np
import pytest

from app.client.lifecycle import LinkConfig, LinkState, ReconnectingStream
from app.client.ring import UNSETTLED, Gap
from app.errors import HandshakeRejected
from app.protocol.messages import Results
from app.protocol.params import StreamParams
from app.protocol.pcm import encode_pcm
from app.server.server import ServerConfig, TranscriptionServer
from tests.conftest import run
from tests.fakes import ClockEngine, LevelWordsEngine, MuteEngine, SlowClockEngine, level_audio
from tests.netfaults import TcpProxy
from tests.waiting import until

FRAME = b"\x10\x00" * 1600  # 100 ms at 16 kHz
FAST = LinkConfig(backoff_initial_s=0.05, backoff_cap_s=0.2, give_up_after_s=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Recorder:
    def __init__(self) -> None:
        self.states: list[tuple[float, LinkState, str]] = []
        self.gaps: list[Gap] = []
        self.finals: list[Results] = []

    def state(self, state: LinkState, detail: str) -> None:
        self.states.append((time.monotonic(), state, detail))

    def stream(self, url: str, config: LinkConfig = FAST, **kw: object) -> ReconnectingStream:
        return ReconnectingStream(
            url, StreamParams(), config=config, on_state=self.state, on_gap=self.gaps.append, **kw
        )

    async def collect(self, stream: ReconnectingStream) -> None:
        async for message in stream.messages():
            if isinstance(message, Results) and message.is_final and message.transcript:
                self.finals.append(message)

    @property
    def words(self) -> list[str]:
        return [w.word for r in self.finals for w in r.words]

    def first(self, state: LinkState) -> float:
        return next(t for t, s, _ in self.states if s is state)


async def server_on(engine: ClockEngine, port: int, **config: object) -> TranscriptionServer:
    server = TranscriptionServer(engine, ServerConfig(port=port, **config))  # type: ignore[arg-type]
    await server.start()
    return server


def test_server_restarts_lose_no_word_and_keep_one_clock() -> None:
    async def scenario() -> tuple[Recorder, ReconnectingStream, ClockEngine]:
        engine, port, rec = ClockEngine(), free_port(), Recorder()
        server = await server_on(engine, port)
        stream = rec.stream(f"ws://127.0.0.1:{port}/ws/transcribe")
        collector = asyncio.create_task(rec.collect(stream))
        for i in range(120):  # 12 s of audio at 5x real time
            stream.push(FRAME)
            await asyncio.sleep(0.02)
            if i in (35, 80):  # the server goes away (1001) and is back 0.6 s later
                await server.close()
                await asyncio.sleep(0.6)
                server = await server_on(engine, port)
        stream.finish()
        await collector
        await server.close()
        return rec, stream, engine

    rec, stream, engine = run(scenario())
    assert rec.words == [f"s{k}" for k in range(12)]
    for k, final in enumerate(rec.finals):  # stream time, not connection time
        assert final.words[0].start == pytest.approx(k + 0.2, abs=1e-6)
    assert stream.stats.connects == 3 and len(stream.stats.outages) == 2
    assert stream.lost_s == 0 and rec.gaps == []
    # What was in flight was replayed, so the server got at least all 12 s.
    assert engine.audio_received_s >= 12.0
    # Each replay began 1.5 s before the last final's end (a whole second here), as context.
    offsets = [session.params.stream_offset_s for session in engine.sessions[1:]]
    assert len(offsets) == 2 and all(o % 1.0 == pytest.approx(0.5) for o in offsets)
    assert [s for _, s, _ in rec.states].count(LinkState.RECONNECTING) >= 2
    assert rec.states[-1][1] is LinkState.CLOSED


def test_five_minutes_offline_with_a_60s_ring_reports_240s_lost() -> None:
    async def scenario() -> tuple[Recorder, ReconnectingStream, ClockEngine]:
        engine, port, rec = ClockEngine(), free_port(), Recorder()
        config = LinkConfig(ring_s=60, backoff_initial_s=0.05, backoff_cap_s=0.1)
        stream = rec.stream(f"ws://127.0.0.1:{port}/ws/transcribe", config)
        collector = asyncio.create_task(rec.collect(stream))
        for _ in range(3000):  # 5 minutes captured while no server is up
            stream.push(FRAME)
        held_bytes = stream.ring.held_bytes
        # With no server up it keeps trying: refused twice, and still connecting (not failed).
        await until(
            lambda: [d for _, _, d in rec.states if "retrying in" in d][1:],
            10,
            "two refused connection attempts",
        )
        assert stream.state is LinkState.CONNECTING
        server = await server_on(engine, port)
        stream.finish()
        await collector
        await server.close()
        assert held_bytes == 60 * 16000 * 2  # memory bounded by the ring
        return rec, stream, engine

    rec, stream, engine = run(scenario())
    assert stream.lost_s == 240.0
    assert rec.gaps == [Gap(0.0, 240.0)]
    assert engine.audio_received_s == 60.0
    assert rec.words == [f"s{k}" for k in range(240, 300)]


def test_a_blackholed_connection_is_noticed_within_7s_and_nothing_is_lost() -> None:
    async def scenario() -> tuple[Recorder, ReconnectingStream, float]:
        engine, rec = ClockEngine(), Recorder()
        server = await server_on(engine, 0)
        async with TcpProxy(server.port) as proxy:
            stream = rec.stream(
                f"ws://127.0.0.1:{proxy.port}/ws/transcribe",
                LinkConfig(backoff_initial_s=0.1),  # default ping settings: the claim itself
            )
            collector = asyncio.create_task(rec.collect(stream))
            blackholed_at = 0.0
            for i in range(160):  # 16 s in real time
                stream.push(FRAME)
                await asyncio.sleep(0.1)
                if i == 30:
                    assert proxy.blackhole_existing() == 1
                    blackholed_at = time.monotonic()
            stream.finish()
            await collector
        await server.close()
        return rec, stream, rec.first(LinkState.RECONNECTING) - blackholed_at

    rec, stream, noticed_after = run(scenario(), timeout=90)
    # README: ping every 2.5 s, 3.5 s to answer, 1 s to close: noticed within 7 s.
    assert noticed_after <= 7.0 + 0.5  # + scheduling slack on a loaded machine
    assert rec.words == [f"s{k}" for k in range(16)]
    assert stream.stats.connects == 2


def test_a_refused_token_fails_at_once_without_retrying() -> None:
    async def scenario() -> Recorder:
        rec = Recorder()
        server = await server_on(ClockEngine(), 0, token="right")
        stream = ReconnectingStream(
            server.url, StreamParams(), token="wrong", config=FAST, on_state=rec.state
        )
        stream.push(FRAME)
        with pytest.raises(HandshakeRejected) as info:
            await rec.collect(stream)
        assert info.value.status == 401
        await server.close()
        return rec

    rec = run(scenario())
    assert [s for _, s, _ in rec.states] == [LinkState.FAILED]


def test_keepalive_holds_a_silent_session_open() -> None:
    async def scenario() -> ReconnectingStream:
        engine, rec = ClockEngine(), Recorder()
        server = await server_on(engine, 0, idle_timeout_s=0.6)
        stream = rec.stream(server.url, LinkConfig(keepalive_s=0.2))
        collector = asyncio.create_task(rec.collect(stream))
        stream.push(FRAME * 10)
        await asyncio.sleep(2.0)  # paused: no audio, well past the idle timeout
        stream.push(FRAME * 10)
        stream.finish()
        await collector
        await server.close()
        assert rec.words == ["s0", "s1"]
        return stream

    assert run(scenario()).stats.connects == 1


def test_a_replay_that_overlaps_finals_already_shown_repeats_no_word() -> None:
    """Both mode: the replay starts at the lagging channel's last final, so the other channel
    hears again words it had already settled; they must not come out twice."""
    you = level_audio(list(range(1, 13)), 1.0)  # twelve 1 s words
    others = level_audio([21, 22, 23, 24], 3.0)  # four 3 s words: this channel settles later
    pcm = encode_pcm(np.stack([you, others], axis=1))
    frame_bytes = 1600 * 4  # 100 ms of 16 kHz stereo s16le

    async def scenario() -> tuple[list[Results], ReconnectingStream]:
        engine, port, rec = LevelWordsEngine(), free_port(), Recorder()
        server = await server_on(engine, port)
        stream = ReconnectingStream(
            f"ws://127.0.0.1:{port}/ws/transcribe",
            StreamParams(channels=2, multichannel=True),
            config=FAST,
            on_state=rec.state,
        )
        collector = asyncio.create_task(rec.collect(stream))
        for i in range(len(pcm) // frame_bytes):
            stream.push(pcm[i * frame_bytes : (i + 1) * frame_bytes])
            await asyncio.sleep(0.02)
            if i == 85:  # 8.6 s in: "You" has settled w1..w8, "Others" only w21, w22 (6.0 s)
                await server.close()
                server = await server_on(engine, port)
        stream.finish()
        await collector
        await server.close()
        return rec.finals, stream

    finals, stream = run(scenario())
    by_channel = {
        channel: [w.word for r in finals if r.channel == channel for w in r.words]
        for channel in (0, 1)
    }
    assert by_channel[0] == [f"w{k}" for k in range(1, 13)]
    assert by_channel[1] == ["w21", "w22", "w23", "w24"]
    assert stream.stats.connects == 2
    assert stream.stats.replayed_s >= 2.0, "the replay went back to the lagging channel's final"


def test_audio_sent_but_never_settled_beyond_the_replay_cover_is_reported_lost() -> None:
    """The server took 10 s and settled none of it; the client keeps 3 s for a replay. When
    the server dies, the 7 s before that are gone: reported as a gap, never silently."""

    async def scenario() -> tuple[Recorder, ReconnectingStream]:
        port, rec = free_port(), Recorder()
        config = LinkConfig(replay_cover_s=3.0, backoff_initial_s=0.05, backoff_cap_s=0.2)
        mute = await server_on(MuteEngine(), port)
        stream = rec.stream(f"ws://127.0.0.1:{port}/ws/transcribe", config)
        collector = asyncio.create_task(rec.collect(stream))
        for _ in range(100):
            stream.push(FRAME)
        await until(lambda: stream.ring.sent == stream.ring.end, 10, "all 10 s sent")
        await mute.close()
        clock = await server_on(ClockEngine(), port)
        await until(lambda: stream.stats.connects == 2, 10, "the second connection")
        stream.finish()
        await collector
        await clock.close()
        return rec, stream

    rec, stream = run(scenario())
    assert rec.gaps == [Gap(0.0, 7.0, UNSETTLED)]
    assert stream.lost_s == 7.0
    assert rec.words == ["s7", "s8", "s9"]


def test_a_file_waits_for_the_server_to_settle_what_a_replay_could_not_cover() -> None:
    """A file can wait, so it never runs further ahead of the server's finals than a
    reconnect could replay; a server that reports no progress at all is waited for only
    `quiet_server_s`, then the file goes on."""

    async def scenario() -> tuple[float, float, ReconnectingStream]:
        port, rec = free_port(), Recorder()
        config = LinkConfig(replay_cover_s=4.0, quiet_server_s=1.5, backoff_initial_s=0.05)
        server = await server_on(MuteEngine(), port)
        stream = rec.stream(f"ws://127.0.0.1:{port}/ws/transcribe", config)
        collector = asyncio.create_task(rec.collect(stream))
        started, most_ahead = time.monotonic(), 0.0
        for _ in range(100):  # a 10 s file
            await stream.wait_for_room(1.0)
            stream.push(FRAME)
            if time.monotonic() - started < 1.0:
                most_ahead = max(most_ahead, stream.ring.unsettled_s)
        took = time.monotonic() - started
        stream.finish()
        await collector
        await server.close()
        return most_ahead, took, stream

    most_ahead, took, stream = run(scenario())
    assert most_ahead <= 3.0 + 0.1  # replay cover 4 s less the 1 s the file may run ahead
    assert 1.5 <= took < 10, "a silent server held the file back for quiet_server_s only"
    assert stream.lost_s == 0


def test_a_file_faster_than_the_server_keeps_its_pings_answered() -> None:
    """A file runs ahead of a server decoding at 10x as far as its replay cover lets it. The
    server must take all that in, or the client's pings wait in TCP behind the audio and an
    alive server is taken for dead (CI: three reconnects, 160 s replayed, in a 3-minute file)."""

    async def scenario() -> tuple[Recorder, ReconnectingStream]:
        port, rec = free_port(), Recorder()
        config = LinkConfig(ping_interval_s=0.3, ping_timeout_s=0.6, give_up_after_s=30)
        server = await server_on(SlowClockEngine(speed=10.0), port)
        stream = rec.stream(f"ws://127.0.0.1:{port}/ws/transcribe", config)
        collector = asyncio.create_task(rec.collect(stream))
        for _ in range(400):  # a 40 s file
            await stream.wait_for_room(5.0)
            stream.push(FRAME)
        stream.finish()
        await collector
        await server.close()
        return rec, stream

    rec, stream = run(scenario())
    assert stream.stats.connects == 1, stream.stats.last_error
    assert rec.words == [f"s{k}" for k in range(40)]
