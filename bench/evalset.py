"""The eval set (../shared/eval): manifest items, text normalisation and WER scoring."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

EVAL_DIR = Path(
    os.environ.get("CAPTIONIST_EVAL", Path(__file__).resolve().parents[2] / "shared" / "eval")
)
FILLERS = {"um", "uh", "mm", "hmm", "oh", "ah", "er"}
_PUNCT = re.compile(r"[^a-z0-9' ]+")


@dataclass(frozen=True)
class EvalItem:
    id: str
    audio: Path
    text_norm: str
    duration: float
    kind: str


def normalise(text: str) -> str:
    """The manifest's text_norm rules: lower case, hyphens to spaces, punctuation out."""
    text = text.lower().replace("-", " ")
    text = _PUNCT.sub(" ", text)
    words = [w.strip("'") for w in text.split()]
    return " ".join(w for w in words if w and w not in FILLERS)


def load_items(directory: Path = EVAL_DIR) -> list[EvalItem]:
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
                )
            )
    return items


def corpus_wer(pairs: list[tuple[str, str]]) -> float:
    """Word error rate over all (reference, hypothesis) pairs together, both normalised."""
    import jiwer

    refs = [normalise(r) for r, _ in pairs]
    hyps = [normalise(h) for _, h in pairs]
    keep = [(r, h) for r, h in zip(refs, hyps, strict=True) if r]
    return float(jiwer.wer([r for r, _ in keep], [h for _, h in keep]))
