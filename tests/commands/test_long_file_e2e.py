"""Issue 12, item 2: speech with no pause, sent as fast as the server takes it.

Joined with 60 ms gaps, the endpointer never sees a pause: every final comes from a settle
inside one long utterance, while the engine is behind (no `--realtime`). Before the fix a
4-minute file dropped the connection after 78 s (a decode over whisper's 30 s) and 132 s of
speech were never captioned while the summary said "0.0 s lost".
"""

from __future__ import annotations

import sys

import pytest
import soundfile

from tests.conftest import ROOT, SPEECH_DIR
from tests.streaming import wer

sys.path.insert(0, str(ROOT / "bench"))
from evalset import whisper_normalise
from long_file import joined_speech, transcribe

pytestmark = [pytest.mark.e2e, pytest.mark.model]


def test_three_minutes_without_a_pause_are_captioned_whole_as_fast_as_the_server_goes() -> None:
    path, reference = joined_speech(3, SPEECH_DIR)
    assert soundfile.info(path).duration >= 180
    code, _, text, err = transcribe(path, "tiny.en", realtime=False)
    assert code == 0, err
    # One connection (no decode outgrew whisper's window), no audio lost: the summary then
    # says neither, only "captioned 180.0 s of audio in ...".
    assert "reconnect" not in err and "lost" not in err, err
    assert "captioned" in err.strip().splitlines()[-1]
    # Every part of the file came out: the words of its last utterances too.
    hypothesis = whisper_normalise(text).split()
    assert len(hypothesis) >= 0.9 * len(whisper_normalise(reference).split())
    assert wer(reference, text) <= 0.25
