"""The fault test of issue 4: `captionist serve` killed (SIGKILL) and restarted twice while
`captionist transcribe --server --realtime` captions a real clip; nothing may be lost."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.streaming import manifest, wer

sys.path.insert(0, str(ROOT / "bench"))
from faults import crash_run, words_doubled, words_lost

pytestmark = [pytest.mark.e2e, pytest.mark.model]


def test_server_killed_twice_loses_no_words(tmp_path: Path, speech_dir: Path) -> None:
    item = manifest(speech_dir)["pub_commonvoice_session_01"]  # 42 s, three speakers
    audio = speech_dir / item["audio"]
    clean = crash_run(audio, [], tmp_path)
    faulted = crash_run(audio, [(10.0, 4.0), (26.0, 5.0)], tmp_path)
    assert clean.returncode == 0 and faulted.returncode == 0, faulted.stderr
    # Down 4-20 s each (the pause plus the server's own start-up, slower on a busy machine).
    assert len(faulted.down_s) == 2 and all(4.0 <= d <= 20.0 for d in faulted.down_s)
    assert faulted.stderr.count("captionist: reconnecting") >= 2
    assert "2 reconnects" in faulted.stderr
    # The transcript: within 2 WER points of the run without faults.
    reference = item["text_norm"]
    assert wer(reference, faulted.text) <= wer(reference, clean.text) + 0.02
    assert words_lost(reference, clean.text, faulted.text) <= 2
    assert words_doubled(reference, clean.text, faulted.text) <= 2
    # Server side: each new server was told where the stream resumed, never past what the
    # killed one had received, and the last one's count of stream audio is the audio sent.
    offsets = faulted.stream_offsets
    assert len(offsets) == 3 and offsets[0] == 0.0
    for offset, killed_at in zip(offsets[1:], faulted.kill_audio_s, strict=True):
        assert 0.0 < offset <= killed_at
    assert faulted.stream_end == pytest.approx(item["duration_s"], abs=0.02)
