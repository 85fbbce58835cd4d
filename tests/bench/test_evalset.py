"""bench/evalset.py: the halves, the categories and the WER scoring the figures rest on."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from evalset import (
    corpus_wer,
    cp_word_errors,
    load_items,
    normalise,
    whisper_normalise,
    word_errors,
)


def test_numbers_and_spellings_are_one_word_to_a_reader() -> None:
    assert word_errors("I paid ten dollars", "I paid $10") == 0
    assert word_errors("the colour grey", "the color gray") == 0
    assert word_errors("fourteen fifty five", "1455") == 0
    # The older rules count those as errors: kept to compare with figures taken before.
    assert word_errors("I paid ten dollars", "I paid $10", normalise) > 0


def test_fillers_and_punctuation_are_dropped_on_both_sides() -> None:
    assert word_errors("um so we start", "So, uh, we start.") == 0
    assert whisper_normalise("Don't stop!") == whisper_normalise("don't stop")


def test_errors_count_substitutions_deletions_and_insertions() -> None:
    assert word_errors("ask not what your country", "ask what your county can") == 3
    assert word_errors("hello world", "") == 2
    assert word_errors("", "invented words") == 2
    assert corpus_wer([("red green blue black", "red green blue"), ("white", "white")]) == 0.2


def test_cpwer_pairs_each_speaker_with_the_best_reference() -> None:
    refs = {"A": "good morning everyone", "B": "shall we start"}
    assert cp_word_errors(refs, {"x": "shall we start", "y": "good morning everyone"}) == (0, 6)
    # One unlabelled stream: the other speaker's words are all missing.
    errors, words = cp_word_errors(refs, {"x": "good morning everyone shall we start"})
    assert (errors, words) == (6, 6)  # 3 inserted against A, 3 missing for B


@pytest.fixture(scope="module")
def items(eval_dir: Path) -> list:  # type: ignore[type-arg]
    return load_items(eval_dir)


def test_halves_share_no_speaker_and_each_has_every_category(
    items: list,  # type: ignore[type-arg]
    eval_dir: Path,
) -> None:
    speakers: dict[str, set[str]] = {"tune": set(), "test": set()}
    for line in (eval_dir / "manifest.jsonl").read_text().splitlines():
        raw = json.loads(line)
        item = next(i for i in items if i.id == raw["id"])
        named = {s["speaker"] for s in raw.get("segments", [])} or set(raw["speakers"])
        speakers[item.half] |= named
    assert not speakers["tune"] & speakers["test"]
    for half in ("tune", "test"):
        chosen = [i for i in items if i.half == half]
        assert {i.category for i in chosen} >= {"read", "accented"}
        assert sum(i.duration for i in chosen) > 400  # minutes of speech, not a few clips
    assert [i.category for i in items if i.kind == "meeting"] == ["meeting"]
    assert all(i.speaker_texts for i in items if i.kind == "meeting")
