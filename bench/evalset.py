"""The eval set (its folder in CAPTIONIST_EVAL): items, halves, categories, normalisation, WER.

Two halves, split by corpus and speaker (no speaker is in both): settings are tuned on
`tune` and reported on `test`, which stands for speech never heard. Scores use Whisper's
English text normaliser (as ASR leaderboards do: "ten" and "10" are one word to a reader,
fillers dropped) on both sides; `normalise` is the older rule set, kept for comparison.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from itertools import permutations
from pathlib import Path
from typing import Any

EVAL_VARIABLE = "CAPTIONIST_EVAL"
FILLERS = {"um", "uh", "mm", "hmm", "oh", "ah", "er"}
_PUNCT = re.compile(r"[^a-z0-9' ]+")


# The test half: other speakers (and a child, a meeting, audiobooks) than the tuning half.
TEST_HALF = frozenset(
    [f"pub_commonvoice_{n:02d}" for n in range(11, 21)]
    + [
        "pub_commonvoice_session_02",
        "pub_commonvoice_session_03",
        "pub_speechocean_adult_0765",
        "pub_speechocean_adult_1109",
        "pub_speechocean_child_2034",
        "pub_librispeech_session_01",
        "pub_misc_session_01",
        "pub_ami_meeting_ES2004a_part1",
    ]
)
CATEGORIES = ("read", "accented", "meeting")


@dataclass(frozen=True)
class EvalItem:
    id: str
    audio: Path
    text_norm: str
    duration: float
    kind: str
    speaker_texts: dict[str, str] = field(default_factory=dict)
    # Where each utterance's speech ends (the manifest's tight estimate), in seconds.
    speech_ends: tuple[float, ...] = ()

    @property
    def half(self) -> str:
        return "test" if self.id in TEST_HALF else "tune"

    @property
    def category(self) -> str:
        if self.kind == "meeting":
            return "meeting"
        return "accented" if "speechocean" in self.id else "read"


def normalise(text: str) -> str:
    """The manifest's text_norm rules: lower case, hyphens to spaces, punctuation out."""
    text = text.lower().replace("-", " ")
    text = _PUNCT.sub(" ", text)
    words = [w.strip("'") for w in text.split()]
    return " ".join(w for w in words if w and w not in FILLERS)


def eval_dir() -> Path:
    """The eval set's folder. It is not in the repository (the tests' speech is, in
    tests/speech): a benchmark without it stops with the variable to set."""
    path = os.environ.get(EVAL_VARIABLE)
    if not path:
        raise SystemExit(
            f"The eval set is not in the repository: set {EVAL_VARIABLE} to the folder that"
            " holds its manifest.jsonl and audio/ (docs/development.md, Benchmarks)."
        )
    if not (Path(path) / "manifest.jsonl").is_file():
        raise SystemExit(f"{EVAL_VARIABLE}={path}: no manifest.jsonl in that folder.")
    return Path(path)


def load_items(directory: Path | None = None) -> list[EvalItem]:
    directory = directory or eval_dir()
    items = []
    with (directory / "manifest.jsonl").open() as handle:
        for line in handle:
            raw = json.loads(line)
            items.append(
                EvalItem(
                    raw["id"],
                    directory / raw["audio"],
                    raw["text_norm"],
                    float(raw["duration_s"]),
                    raw["kind"],
                    dict(raw.get("speaker_texts_norm") or {}),
                    _speech_ends(raw),
                )
            )
    return items


def _speech_ends(raw: dict[str, Any]) -> tuple[float, ...]:
    segments = raw.get("segments") or [{"end": raw["duration_s"]}]
    return tuple(float(s.get("speech_end", s["end"])) for s in segments)


@cache
def _whisper_normaliser():  # type: ignore[no-untyped-def]
    from whisper_normalizer.english import EnglishTextNormalizer

    return EnglishTextNormalizer()


def whisper_normalise(text: str) -> str:
    """Whisper's English normaliser (numbers, spellings, fillers), then the manifest rules."""
    return normalise(_whisper_normaliser()(text))


Normaliser = Callable[[str], str]


def word_errors(reference: str, hypothesis: str, norm: Normaliser = whisper_normalise) -> int:
    """Substitutions + deletions + insertions of `hypothesis` against `reference`."""
    import jiwer

    ref, hyp = norm(reference), norm(hypothesis)
    if not ref:
        return len(hyp.split())
    out = jiwer.process_words(ref, hyp or "<empty>")
    insertions = int(out.insertions) - (0 if hyp else 1)  # "<empty>" is no word
    return int(out.substitutions + out.deletions) + max(0, insertions)


def word_count(text: str, norm: Normaliser = whisper_normalise) -> int:
    return len(norm(text).split())


def corpus_wer(pairs: list[tuple[str, str]], norm: Normaliser = whisper_normalise) -> float:
    """Word error rate over all (reference, hypothesis) pairs together, both normalised."""
    words = sum(word_count(r, norm) for r, _ in pairs)
    return sum(word_errors(r, h, norm) for r, h in pairs) / max(1, words)


def cp_word_errors(
    speaker_refs: dict[str, str], speaker_hyps: dict[str, str], norm: Normaliser = whisper_normalise
) -> tuple[int, int]:
    """cpWER's numerator and denominator: each hypothesis speaker's text against the reference
    speaker it is best paired with (unpaired texts count whole), minimised over pairings."""
    refs, hyps = list(speaker_refs.values()), list(speaker_hyps.values())
    size = max(len(refs), len(hyps))
    refs += [""] * (size - len(refs))
    hyps += [""] * (size - len(hyps))
    best = min(
        sum(word_errors(r, hyps[j], norm) for r, j in zip(refs, order, strict=True))
        for order in permutations(range(size))
    )
    return best, sum(word_count(r, norm) for r in refs)


def wer_table(results: list[tuple[EvalItem, str]], batch: dict[str, str]) -> list[str]:
    """Lines of streaming vs batch WER per half and category (Whisper's normaliser, the old
    rules in brackets); the meeting also as cpWER (one unlabelled stream: other speakers'
    words count as missed until the transcript has speaker labels)."""
    lines = []
    for half in ("tune", "test"):
        chosen = [(item, text) for item, text in results if item.half == half]
        if not chosen:
            continue
        lines.append(f"  {half} half ({len(chosen)} files):")
        groups = [(c, [(i, t) for i, t in chosen if i.category == c]) for c in CATEGORIES]
        for label, group in [*groups, ("all", chosen)]:
            if not group:
                continue
            pairs = [(i.text_norm, t) for i, t in group]
            batch_pairs = [(i.text_norm, batch[i.id]) for i, _ in group]
            wer, batch_wer = corpus_wer(pairs) * 100, corpus_wer(batch_pairs) * 100
            old, old_batch = (
                corpus_wer(pairs, normalise) * 100,
                corpus_wer(batch_pairs, normalise) * 100,
            )
            line = (
                f"    {label:9s} streaming {wer:6.2f} %  batch {batch_wer:6.2f} %"
                f"  gap {wer - batch_wer:+5.2f}  (old rules {old:6.2f} / {old_batch:6.2f} %)"
            )
            if label == "meeting":
                scores = [cp_word_errors(i.speaker_texts, {"0": t}) for i, t in group]
                cp = sum(e for e, _ in scores) / max(1, sum(n for _, n in scores))
                line += f"  cpWER {cp * 100:6.2f} %"
            lines.append(line)
    return lines


def utterance_delays(ends: list[float], speech_finals_at: list[float]) -> list[float]:
    """For each speech end, how long until the next speech_final arrived (same clock)."""
    delays = []
    for end in ends:
        later = [at for at in speech_finals_at if at >= end]
        if later:
            delays.append(min(later) - end)
    return delays
