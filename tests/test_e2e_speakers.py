"""Issue 13 item 2, the local engine: speaker labels from the voices in real speech."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from app.errors import ModelHashMismatch, ParamError
from app.protocol.messages import Results
from app.protocol.params import StreamParams
from app.server.engines.whisper import WhisperEngine
from app.server.server import ServerConfig, TranscriptionServer
from app.server.speakers.encoder import SpeakerEncoder
from tests.conftest import run
from tests.streaming import load, stream
from tests.test_e2e_cli import captionist

pytestmark = [pytest.mark.e2e, pytest.mark.model]


def speakers_per_final(events: Path) -> list[set[int | None]]:
    finals = []
    for line in events.read_text().splitlines():
        message = json.loads(line)["msg"]
        if message["type"] == "Results" and message["is_final"]:
            words = message["channel"]["alternatives"][0]["words"]
            if words:
                finals.append({w.get("speaker") for w in words})
    return finals


def test_ten_voices_get_several_labels_and_one_voice_gets_one(
    tmp_path: Path, eval_dir: Path
) -> None:
    labels: dict[str, Counter[int | None]] = {}
    for item in ("pub_commonvoice_session_01", "pub_ljspeech_session_01"):
        events = tmp_path / f"{item}.jsonl"
        result = captionist(
            "transcribe", str(eval_dir / "audio" / f"{item}.flac"), "--diarize",
            "--events", str(events),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        finals = speakers_per_final(events)
        assert all(len(s) == 1 and None not in s for s in finals), "one label a final, always"
        labels[item] = Counter(next(iter(s)) for s in finals)
    assert len(labels["pub_commonvoice_session_01"]) >= 5  # ten people, one sentence each
    assert list(labels["pub_ljspeech_session_01"]) == [0]  # one reader, two minutes


def test_diarize_is_refused_with_the_reason_when_the_speaker_model_is_corrupt(
    whisper_engine: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def corrupt() -> SpeakerEncoder:
        raise ModelHashMismatch("ge2e", "/x/ge2e.npz", "aa", "bb")

    monkeypatch.setattr(SpeakerEncoder, "shared", classmethod(lambda cls: corrupt()))
    with pytest.raises(ParamError, match=r"diarize.*speaker labels unavailable"):
        whisper_engine.check_params(StreamParams(diarize=True))  # type: ignore[attr-defined]
    whisper_engine.check_params(StreamParams())  # type: ignore[attr-defined]


def test_the_expected_number_of_speakers_caps_the_labels(
    whisper_engine: WhisperEngine, eval_dir: Path
) -> None:
    """`max_speakers` in the handshake reaches the clusters: in the first 20 s of ten people
    reading a sentence each, the voices open four labels, or two when two are expected."""
    audio = load(eval_dir / "audio" / "pub_commonvoice_session_01.flac")[: 20 * 16000]

    async def labels(**params: object) -> set[int | None]:
        async with TranscriptionServer(whisper_engine, ServerConfig(port=0)) as server:
            received = await stream(server.url, audio, diarize=True, **params)
        finals = [r.message for r in received if isinstance(r.message, Results)]
        return {w.speaker for final in finals if final.is_final for w in final.words}

    assert len(run(labels())) >= 3  # the cap below is not met by chance
    assert run(labels(max_speakers=2)) == {0, 1}
