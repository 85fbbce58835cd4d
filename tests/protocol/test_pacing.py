"""Pacing audio to a server's advertised rate limit (pure)."""

from __future__ import annotations

import pytest

from app.protocol.pacing import MARGIN, AudioRate


def test_the_header_round_trips_and_junk_means_no_limit() -> None:
    rate = AudioRate(2.0, 150.0)
    assert AudioRate.parse(rate.header()) == rate
    for junk in (None, "", "factor=fast;burst=1", "factor=2", "factor=0;burst=1", "burst=-1"):
        assert AudioRate.parse(junk) is None, junk


def test_a_client_inside_the_burst_never_waits_and_past_it_waits_for_the_average() -> None:
    rate = AudioRate(2.0, 10.0)
    assert rate.wait_s(sent_s=0.0, next_s=0.5, elapsed_s=0.0) == 0.0
    # 8.8 s sent at once: 9.3 s would pass the burst (9 s with the margin) by 0.3 s, which
    # the average rate allows after 0.3 / (2 * MARGIN) s.
    assert rate.wait_s(8.8, 0.5, 0.0) == pytest.approx(0.3 / (2 * MARGIN))
    # Whatever the pacing, what it allows stays under the server's limit.
    sent, clock = 0.0, 0.0
    while sent < 120:
        clock += rate.wait_s(sent, 0.5, clock)
        sent += 0.5
        assert sent <= rate.burst_s + rate.factor * clock
