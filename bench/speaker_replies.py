"""Speaker labels when one voice answers another without a pause (app/server/asr/speaker_turns.py).

    python bench/speaker_replies.py [--half test|tuning] [--pairs 20] [--seed 3]

Pairs of eval utterances by different speakers (each at least 3 s, from the chosen half) are
joined with no pause between them and streamed through the real transcriber with speaker
labels, stepped frame by frame as tune.py does (every decode real-time pacing would run,
deterministic). Each final word's true speaker is the one whose clip holds its middle. Scored
per pair: the share of words whose label maps to their speaker under the best mapping, with
finals split at a voice change (the app) and labelled whole (`max_pieces=1`, as before).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from speaker_turns_tune import SAMPLE_RATE, Clip, half_clips  # noqa: E402

from app.protocol.messages import Results  # noqa: E402
from app.server.asr.speaker_turns import TurnSettings  # noqa: E402
from app.server.engines.whisper import WhisperEngine  # noqa: E402
from tests.streaming import stepped_messages  # noqa: E402

MIN_S = 3.0
SPLIT, WHOLE = TurnSettings(), TurnSettings(max_pieces=1)


def word_accuracy(words: list[tuple[float, int | None]], join_s: float) -> float:
    """Words right under the best mapping of labels onto the two speakers (a speaker may
    have no label: "nobody" stands in for it)."""
    truth = [0 if middle < join_s else 1 for middle, _ in words]
    labels: list[object] = [label for label in {label for _, label in words} if label is not None]
    best = 0
    for first, second in itertools.permutations([*labels, "nobody", "nobody too"], 2):
        right = sum(
            label == (first if t == 0 else second)
            for (_, label), t in zip(words, truth, strict=True)
        )
        best = max(best, right)
    return best / len(words) if words else 0.0


async def labelled_words(
    engine: WhisperEngine, audio: np.ndarray, turns: TurnSettings
) -> list[tuple[float, int | None]]:
    messages = await stepped_messages(engine, audio, label=engine.labeller(turns=turns))
    return [
        ((w.start + w.end) / 2, w.speaker)
        for _, m in messages
        if isinstance(m, Results) and m.is_final
        for w in m.words
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=["tuning", "test"], default="test")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--model", default="tiny.en")
    args = parser.parse_args()
    clips = [c for c in half_clips(args.half) if len(c.audio) / SAMPLE_RATE >= MIN_S]
    rng = random.Random(args.seed)
    pairs: list[tuple[Clip, Clip]] = []
    while len(pairs) < args.pairs:
        a, b = rng.sample(clips, 2)
        if a.speaker != b.speaker:
            pairs.append((a, b))
    engine = WhisperEngine.load(args.model)
    silence = np.zeros(SAMPLE_RATE // 2, np.float32)
    scores: dict[str, list[float]] = {"split": [], "whole": []}
    print(f"{len(pairs)} {args.half}-half pairs, model {args.model}")
    print("pair  seconds (A + B)   words  split  whole")
    for index, (a, b) in enumerate(pairs):
        audio = np.concatenate([silence, a.audio, b.audio, silence, silence])
        join_s = (len(silence) + len(a.audio)) / SAMPLE_RATE
        row = []
        for name, turns in (("split", SPLIT), ("whole", WHOLE)):
            words = asyncio.run(labelled_words(engine, audio, turns))
            scores[name].append(word_accuracy(words, join_s))
            row.append(scores[name][-1])
        seconds = f"{len(a.audio) / SAMPLE_RATE:4.1f} + {len(b.audio) / SAMPLE_RATE:4.1f}"
        print(f"{index:4d}  {seconds:>15}  {len(words):6d}  {row[0]:5.0%}  {row[1]:5.0%}")
    for name, values in scores.items():
        print(f"{name}: words labelled right {100 * float(np.mean(values)):.1f} % (mean of pairs)")


if __name__ == "__main__":
    main()
