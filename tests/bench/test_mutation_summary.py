"""bench/mutation_summary.py: the killed share `make mutation` prints, per module."""

from __future__ import annotations

import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from mutation_summary import report, tally

RESULTS = """\
    app.protocol.pcm.x_encode_pcm__mutmut_1: killed
    app.protocol.pcm.x_encode_pcm__mutmut_2: survived
    app.protocol.pcm.x_chunk_bytes__mutmut_1: timeout
    app.client.ring.xǁAudioRingǁtake__mutmut_10: killed
    app.client.ring.xǁAudioRingǁseal_gaps__mutmut_1: no tests
not a result line
"""


def test_results_are_counted_per_module_with_timeouts_as_killed() -> None:
    by_module = tally(RESULTS.splitlines())
    assert by_module == {
        "app.protocol.pcm": {"killed": 1, "survived": 1, "timeout": 1},
        "app.client.ring": {"killed": 1, "no tests": 1},
    }
    lines = [" ".join(line.split()) for line in report(by_module).splitlines()]
    assert lines == [
        "app.client.ring killed 1 of 2 ( 50.0 %), no tests 1",
        "app.protocol.pcm killed 2 of 3 ( 66.7 %), survived 1",
        "all killed 3 of 5 ( 60.0 %), no tests 1, survived 1",
    ]
