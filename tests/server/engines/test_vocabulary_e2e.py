"""The user's vocabulary with the real tiny.en engine: names it mishears come out right, and
terms nobody says never appear."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.protocol.messages import Results
from app.server.engines.whisper import WhisperEngine
from tests.streaming import load, stepped_messages

pytestmark = [pytest.mark.e2e, pytest.mark.model]

NAMES = ("Maintz", "Schoeffer", "Sweynheim", "Pannartz", "Subiaco")
# Twenty terms said nowhere in the eval set: a user's list for some other meeting.
NEVER_SAID = (
    "Kubernetes", "Nguyen", "Siobhan", "Reykjavik", "PostgreSQL", "Oaxaca", "Tchaikovsky",
    "Worcestershire", "Xiaomi", "Dvořák", "Quetzalcoatl", "Zanzibar", "Ljubljana", "Okonkwo",
    "Saoirse", "Yggdrasil", "Kilimanjaro", "Wojciech", "Fujifilm", "Captionist",
)  # fmt: skip


def transcript(engine: WhisperEngine, audio: np.ndarray, keyterms: tuple[str, ...]) -> str:
    tuning = replace(engine.tuning, keyterms=keyterms)
    messages = asyncio.run(stepped_messages(engine, audio, tuning=tuning))
    return " ".join(
        m.transcript for _, m in messages if isinstance(m, Results) and m.is_final and m.transcript
    )


def said(text: str, term: str) -> bool:
    return re.search(rf"\b{re.escape(term.lower())}\b", text.lower()) is not None


def names_clip(speech_dir: Path) -> np.ndarray:
    """The two LJ Speech sentences with the printers' names, a second of silence between."""
    audio = load(speech_dir / "audio/pub_ljspeech_session_02.flac")
    pieces = [audio[int(54.4 * 16000) : int(63.2 * 16000)], np.zeros(16000, np.float32)]
    pieces.append(audio[int(113.0 * 16000) : int(121.7 * 16000)])
    return np.concatenate(pieces)


def test_keyterms_make_the_names_the_model_mishears_come_out_right(
    whisper_engine: WhisperEngine, speech_dir: Path
) -> None:
    clip = names_clip(speech_dir)
    plain = transcript(whisper_engine, clip, ())
    biased = transcript(whisper_engine, clip, NAMES)
    assert sum(said(plain, name) for name in NAMES) <= 2, f"tiny.en knew them: {plain}"
    assert sum(said(biased, name) for name in NAMES) >= 4, biased
    # The rest of the sentences stays as it was.
    for word in ("bible", "printed", "fourteen", "monastery", "rome"):
        assert said(biased, word) == said(plain, word), (plain, biased)


def test_names_said_stay_when_terms_never_said_are_in_the_same_list(
    whisper_engine: WhisperEngine, speech_dir: Path
) -> None:
    """Each term is judged on its own: one copied where it was not said no longer costs the
    names that were said in the same decode."""
    biased = transcript(whisper_engine, names_clip(speech_dir), NAMES + NEVER_SAID)
    assert sum(said(biased, name) for name in NAMES) >= 4, biased
    assert not [t for t in NEVER_SAID if said(biased, t)], biased


def test_terms_that_are_never_said_never_appear(
    whisper_engine: WhisperEngine, speech_dir: Path
) -> None:
    for clip in ("pub_commonvoice_session_02", "pub_speechocean_adult_1109"):
        audio = load(speech_dir / f"audio/{clip}.flac")[: 40 * 16000]
        text = transcript(whisper_engine, audio, NEVER_SAID)
        assert not [t for t in NEVER_SAID if said(text, t)], text
    silence = np.zeros(30 * 16000, dtype=np.float32)
    assert transcript(whisper_engine, silence, NEVER_SAID) == ""
