"""The contract of issue 13 item 2: `captionist transcribe ... --diarize` sends `diarize=true`
in the handshake, and `--events` then shows `speaker` on the final words the server labels.

The command runs from its argv (cli.main) in a worker thread against a real server whose
engine labels two talkers when asked to (tests/fakes.py TalkersEngine).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from app.cli import main
from app.server.server import ServerConfig, TranscriptionServer
from tests.conftest import run
from tests.fakes import TalkersEngine

RATE = 16000


def transcribe(tmp_path: Path, *flags: str) -> tuple[TalkersEngine, list[dict[str, Any]]]:
    """Three seconds of audio through `captionist transcribe --server`: the engine (with the
    params the server parsed from the handshake) and the final Results in the events file."""
    wav, events = tmp_path / "talk.wav", tmp_path / "events.jsonl"
    soundfile.write(wav, np.zeros(3 * RATE, dtype=np.float32), RATE, subtype="PCM_16")
    engine = TalkersEngine()

    async def scenario() -> int:
        async with TranscriptionServer(engine, ServerConfig(port=0)) as server:
            argv = ["transcribe", str(wav), "--server", server.url, "--events", str(events)]
            return await asyncio.to_thread(main, [*argv, *flags])

    assert run(scenario()) == 0
    messages = [json.loads(line)["msg"] for line in events.open(encoding="utf-8")]
    finals = [m for m in messages if m["type"] == "Results" and m["is_final"]]
    return engine, finals


def test_diarize_goes_in_the_handshake_and_the_events_show_each_words_speaker(
    tmp_path: Path,
) -> None:
    engine, finals = transcribe(tmp_path, "--diarize")
    assert [session.params.diarize for session in engine.sessions] == [True]
    words = [w for final in finals for w in final["channel"]["alternatives"][0]["words"]]
    assert [(w["word"], w.get("speaker")) for w in words] == [("s0", 0), ("s1", 1), ("s2", 0)]


def test_without_diarize_none_is_asked_for_and_no_word_has_a_speaker(tmp_path: Path) -> None:
    engine, finals = transcribe(tmp_path)
    assert [session.params.diarize for session in engine.sessions] == [False]
    words = [w for final in finals for w in final["channel"]["alternatives"][0]["words"]]
    assert [w["word"] for w in words] == ["s0", "s1", "s2"]
    assert all("speaker" not in w for w in words)


def test_the_expected_number_of_speakers_goes_in_the_handshake_with_diarize(
    tmp_path: Path,
) -> None:
    engine, finals = transcribe(tmp_path, "--diarize", "--max-speakers", "3")
    assert [(s.params.diarize, s.params.max_speakers) for s in engine.sessions] == [(True, 3)]
    assert finals  # the session ran as without it: the engine is the one that caps the labels


def test_without_max_speakers_no_limit_is_asked_for(tmp_path: Path) -> None:
    engine, _ = transcribe(tmp_path, "--diarize")
    assert [s.params.max_speakers for s in engine.sessions] == [None]


@pytest.mark.parametrize(
    ("flags", "why"),
    [
        (["--max-speakers", "2"], "--max-speakers needs --diarize"),
        (["--diarize", "--max-speakers", "0"], "--max-speakers: must be between 1 and 10"),
        (["--diarize", "--max-speakers", "11"], "--max-speakers: must be between 1 and 10"),
        (["--diarize", "--max-speakers", "two"], "--max-speakers: must be a whole number"),
    ],
)
def test_a_max_speakers_the_server_would_refuse_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], why: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["transcribe", str(tmp_path / "missing.wav"), *flags])
    assert info.value.code == 2  # a usage error, as argparse gives for any bad option
    assert why in capsys.readouterr().err
