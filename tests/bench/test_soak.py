"""bench/soak.py: the meeting-like stream keeps talk and pauses up to the limit."""

from __future__ import annotations

import sys

import numpy as np

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from soak import shortened_pauses


def test_pauses_longer_than_the_limit_are_cut_to_it_and_the_talk_is_kept() -> None:
    rate = 16000
    talk = np.full(rate, 0.5, dtype=np.float32)
    audio = np.concatenate(
        [talk, np.zeros(3 * rate, np.float32), talk, np.zeros(rate // 2, np.float32), talk]
    )
    out = shortened_pauses(audio, 1.0)
    assert len(out) == 3 * rate + rate + rate // 2  # 3 s of talk, 1 s and 0.5 s of pause
    assert np.count_nonzero(out) == 3 * rate
    assert out[rate + rate : 2 * rate + rate].min() == 0.5  # the second talk follows the cut
