"""The client's bounded audio ring and reconnect backoff (pure parts)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.client.backoff import Backoff
from app.client.ring import AudioRing

RATE = 16000
FRAME = b"\x01\x00" * 1600  # 100 ms of mono s16le


def test_five_minutes_offline_with_a_60s_ring_loses_exactly_240s() -> None:
    ring = AudioRing(60, RATE)
    for _ in range(3000):  # 300 s captured, nothing sent
        ring.append(FRAME)
    assert ring.lost_s == pytest.approx(240.0, abs=1e-9)
    assert [(g.start_s, g.length_s) for g in ring.gaps] == [(0.0, 240.0)]
    assert ring.held_s == pytest.approx(60.0)
    assert ring.held_bytes == 60 * RATE * 2  # memory stays at the capacity
    start, pcm = ring.take(10**9)
    assert start == 240 * RATE and len(pcm) == 60 * RATE * 2


def test_dropping_audio_that_was_already_sent_is_not_a_loss() -> None:
    ring = AudioRing(10, RATE)
    for _ in range(300):  # 30 s of (say) silence, each frame sent as it comes
        ring.append(FRAME)
        ring.take(1600)
    assert ring.lost_s == 0 and ring.gaps == []
    assert ring.held_s == pytest.approx(10.0)


def test_replay_from_the_last_final_then_confirm_trims() -> None:
    ring = AudioRing(120, RATE)
    for _ in range(50):
        ring.append(FRAME)
    ring.take(10**9)  # 5 s sent
    ring.confirm(ring.frame_at(2.0))  # the server settled words up to 2 s
    assert ring.start == 2 * RATE
    assert ring.rewind(ring.frame_at(2.0)) == 2 * RATE
    start, pcm = ring.take(10**9)
    assert start == 2 * RATE and len(pcm) == 3 * RATE * 2
    # A rewind before the oldest audio held starts at the oldest audio held.
    assert ring.rewind(0) == 2 * RATE


def test_confirm_never_passes_the_send_cursor() -> None:
    ring = AudioRing(120, RATE)
    ring.append(FRAME * 10)
    ring.take(RATE // 2)
    ring.confirm(RATE)  # a server cannot settle audio it never got
    assert ring.start == RATE // 2


def test_gap_is_reported_where_the_unsent_audio_was() -> None:
    ring = AudioRing(5, RATE)
    for _ in range(20):
        ring.append(FRAME)
    ring.take(10**9)  # connected: 2 s sent... then offline for 12 s
    for _ in range(120):
        ring.append(FRAME)
    assert [(g.start_s, round(g.length_s, 6)) for g in ring.gaps] == [(2.0, 7.0)]
    assert ring.lost_s == pytest.approx(7.0)


def test_rejects_partial_sample_frames() -> None:
    with pytest.raises(ValueError):
        AudioRing(1, RATE, channels=2).append(b"\x00\x00")


@given(st.lists(st.tuples(st.integers(1, 4000), st.booleans(), st.booleans()), max_size=60))
def test_ring_invariants(steps: list[tuple[int, bool, bool]]) -> None:
    """Whatever the order of appends, sends and confirms: bytes held match positions, nothing
    is both lost and sent, and captured = held + lost + trimmed-after-send."""
    ring = AudioRing(0.5, RATE)
    captured = sent_total = 0
    for frames, send, confirm in steps:
        ring.append(b"\x00\x00" * frames)
        captured += frames
        if send:
            start, pcm = ring.take(frames)
            assert start >= ring.start
            sent_total += len(pcm) // 2
        if confirm:
            ring.confirm(ring.sent)
        assert ring.start <= ring.sent <= ring.end == captured
        assert ring.end - ring.start <= ring.capacity_frames
        assert sum(len(p) for _, p in ring._chunks) == ring.held_bytes
    assert sent_total + ring.lost_frames + (ring.end - ring.sent) == captured


def test_backoff_grows_to_the_cap_with_jitter_and_resets() -> None:
    backoff = Backoff(initial_s=0.5, factor=2, cap_s=8, jitter=0.5, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]
    bases = [0.5, 1, 2, 4, 8, 8, 8, 8]
    for delay, base in zip(delays, bases, strict=True):
        assert base * 0.5 <= delay <= base
    assert len(set(delays)) == len(delays)  # jittered, not a fixed schedule
    backoff.reset()
    assert backoff.next_delay() <= 0.5
