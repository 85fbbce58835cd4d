"""The base model streamed over real speech: words it must write whole."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from app.protocol.messages import Results
from app.server.engines.whisper import WhisperEngine
from tests.streaming import load, stepped_messages

pytestmark = [pytest.mark.e2e, pytest.mark.model]


def test_base_never_splits_a_word_from_its_space_after_a_forced_prefix(speech_dir: Path) -> None:
    """With the earlier finals forced as prefix, base wrote a lone space token and then "ire"
    for "I" ("It will be seen that ire did not succeed"); once in the prefix, "ire" came back
    in later sentences."""
    engine = WhisperEngine.load("base")
    try:
        audio = load(speech_dir / "audio/pub_librispeech_session_01.flac")[: 17 * 16000]
        messages = asyncio.run(stepped_messages(engine, audio))
    finally:
        asyncio.run(engine.aclose())
    text = " ".join(
        m.transcript.lower() for _, m in messages if isinstance(m, Results) and m.is_final
    )
    assert "that i did not succeed" in text, text
    assert " ire " not in f" {text} ", text
