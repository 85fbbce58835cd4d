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


def frames(*values: int) -> bytes:
    """Mono s16le frames with the given sample values, to tell each frame apart."""
    return b"".join(v.to_bytes(2, "little", signed=True) for v in values)


def test_a_ring_needs_a_positive_capacity() -> None:
    with pytest.raises(ValueError, match=r"^the ring buffer needs a positive capacity$"):
        AudioRing(0, RATE)


def test_a_partial_frame_is_refused_with_the_reason() -> None:
    ring = AudioRing(1, 10)
    with pytest.raises(ValueError, match=r"^audio must hold whole sample frames$"):
        ring.append(b"\x00")
    assert ring.end == 0 and ring.held_bytes == 0


def test_one_frame_over_the_capacity_drops_exactly_the_oldest_frame() -> None:
    ring = AudioRing(1, 10)  # 10 frames
    ring.append(frames(*range(10)))
    assert ring.lost_frames == 0 and ring.start == 0
    ring.append(frames(10))
    assert (ring.start, ring.end, ring.lost_frames) == (1, 11, 1)
    assert ring.take(100) == (1, frames(*range(1, 11)))


def test_take_crosses_chunks_in_order_down_to_a_one_frame_chunk() -> None:
    ring = AudioRing(1, 10)
    ring.append(frames(1, 2, 3))
    ring.append(frames(4))
    assert ring.take(4) == (0, frames(1, 2, 3, 4))


def test_take_resumes_mid_chunk_and_goes_on_into_the_next() -> None:
    ring = AudioRing(1, 10)
    ring.append(frames(1, 2, 3, 4))
    ring.append(frames(5, 6, 7, 8))
    assert ring.take(2) == (0, frames(1, 2))
    assert ring.take(4) == (2, frames(3, 4, 5, 6))
    assert ring.take(100) == (6, frames(7, 8))  # sent chunks still held are skipped
    assert ring.take(100) == (8, b"")


def test_a_loss_after_the_gaps_were_reported_starts_a_new_gap() -> None:
    ring = AudioRing(0.5, 10)  # 5 frames, nothing sent: every overflow is lost
    ring.append(frames(*range(7)))
    assert [(g.start_s, g.length_s) for g in ring.gaps] == [(0.0, 0.2)]
    ring.append(frames(7))  # contiguous and not yet reported: the same gap grows
    assert [(g.start_s, g.length_s) for g in ring.gaps] == [(0.0, 0.3)]
    ring.seal_gaps()
    ring.append(frames(8))
    assert [(g.start_s, g.length_s) for g in ring.gaps] == [(0.0, 0.3), (0.3, 0.1)]
    assert ring.lost_s == pytest.approx(0.4)


def test_sent_audio_dropped_before_the_server_settled_it_is_lost_when_the_link_drops() -> None:
    """A replay holds only the last `replay_cover_s`: audio sent before that, which the server
    never settled, cannot be replayed, and a lost connection loses it. Counted, not silent."""
    ring = AudioRing(120, RATE)
    ring.append(FRAME * 100)  # 10 s
    ring.take(10**9)
    ring.confirm(ring.frame_at(1.0))  # the server settled the first second only
    ring.release(ring.frame_at(7.0))  # replay cover: keep the last 3 s sent
    assert ring.lost_s == 0 and ring.gaps == []  # the server may still settle it
    ring.confirm(ring.frame_at(2.0))  # ... and settles one more second
    ring.connection_lost()
    assert [(g.start_s, g.length_s) for g in ring.gaps] == [(2.0, 5.0)]
    assert ring.lost_s == pytest.approx(5.0)
    assert ring.rewind(0) == 7 * RATE  # the replay starts at the oldest audio held


def test_released_audio_the_server_settles_later_is_not_lost() -> None:
    ring = AudioRing(120, RATE)
    ring.append(FRAME * 100)
    ring.take(10**9)
    ring.release(ring.frame_at(7.0))
    ring.confirm(ring.frame_at(8.0))
    ring.connection_lost()
    assert ring.lost_s == 0 and ring.gaps == []
    assert ring.unsettled_s == pytest.approx(2.0)


def test_unsettled_audio_lost_with_the_link_then_an_overflow_are_two_gaps_with_causes() -> None:
    ring = AudioRing(5, RATE)
    ring.append(FRAME * 50)  # 5 s, all sent, none settled
    ring.take(10**9)
    ring.release(ring.frame_at(3.0))
    ring.connection_lost()  # 0-3 s never settled and no longer held; 3-5 s will be replayed
    assert ring.sent == ring.start == 3 * RATE
    ring.append(FRAME * 40)  # 4 s more while offline: the oldest second held goes unsent
    assert [(g.start_s, round(g.length_s, 6), g.cause) for g in ring.gaps] == [
        (0.0, 3.0, "unsettled"),
        (3.0, 1.0, "offline"),
    ]
    assert ring.lost_s == pytest.approx(4.0)


def test_a_replay_starts_with_the_lead_in_before_the_settled_audio() -> None:
    ring = AudioRing(120, RATE, lead_in_s=1.5)
    ring.append(FRAME * 100)
    ring.take(10**9)
    ring.confirm(ring.frame_at(5.0))
    ring.release(ring.frame_at(4.0))  # a replay cover that reaches only settled audio
    assert ring.start == ring.frame_at(3.5)
    assert ring.unsettled_s == pytest.approx(5.0)  # the lead-in is settled already
    assert ring.connection_lost() == ring.frame_at(3.5)
    assert ring.lost_s == 0 and ring.gaps == []
