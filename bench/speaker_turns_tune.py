"""Choose how a final is split where its voice changes (app/server/asr/speaker_turns.py), on the
eval set's tuning half only.

    python bench/speaker_turns_tune.py [--pairs 300] [--seed 1] [--half tuning|test]

Pairs of tuning-half utterances are joined with no pause, as people answer each other in a
meeting: two of one voice (the recurring voices: LJ Speech, the speechocean adults), which must
stay whole, and two of different voices, which should split near the join. Each joined clip
is embedded as the labeller embeds a final (1.6 s windows, 1.3 a second). Printed per
setting: the share of two-voice clips split within 1 s of the join, of those split at all,
and of one-voice clips split (each a sentence wrongly cut in two, the costlier mistake).
Choose on the tuning half; then report the chosen setting's row on `--half test`.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from evalset import TEST_HALF, eval_dir  # noqa: E402

from app.server.asr.speaker_turns import TurnSettings, boundary_time_s, turn_boundaries  # noqa: E402
from app.server.speakers.encoder import SpeakerEncoder  # noqa: E402
from app.server.speakers.features import RATE  # noqa: E402

SAMPLE_RATE = 16000
MIN_CLIP_S = 2.0  # a reply shorter than this cannot be told apart (min_windows) anyway


@dataclass(frozen=True)
class Clip:
    speaker: str
    audio: np.ndarray


def half_clips(half: str) -> list[Clip]:
    clips = []
    for line in (eval_dir() / "manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if (entry["id"] in TEST_HALF) != (half == "test") or "ami" in entry["id"]:
            continue
        audio, rate = sf.read(eval_dir() / entry["audio"], dtype="float32")
        assert rate == SAMPLE_RATE
        spans = entry.get("segments") or [
            {"start": 0.0, "end": len(audio) / rate, "speaker": entry["id"]}
        ]
        for span in spans:
            clip = audio[int(span["start"] * rate) : int(span["end"] * rate)]
            speaker = f"{entry['id'].split('_session')[0]}:{span['speaker']}"
            if "ljspeech" in entry["id"]:
                speaker = "ljspeech"
            if len(clip) / rate >= MIN_CLIP_S:
                clips.append(Clip(speaker, clip))
    return clips


def pairs(clips: list[Clip], count: int, seed: int) -> tuple[list[tuple[Clip, Clip]], ...]:
    rng = random.Random(seed)
    by_speaker: dict[str, list[Clip]] = {}
    for clip in clips:
        by_speaker.setdefault(clip.speaker, []).append(clip)
    recurring = [s for s, cs in by_speaker.items() if len(cs) >= 2]
    same = [tuple(rng.sample(by_speaker[rng.choice(recurring)], 2)) for _ in range(count)]
    different: list[tuple[Clip, Clip]] = []
    while len(different) < count:
        a, b = rng.sample(clips, 2)
        if a.speaker != b.speaker:
            different.append((a, b))
    return same, different  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--half", choices=["tuning", "test"], default="tuning")
    args = parser.parse_args()
    encoder = SpeakerEncoder.shared()
    clips = half_clips(args.half)
    same, different = pairs(clips, args.pairs, args.seed)
    kinds = f"{args.pairs} pairs of each kind"
    print(f"{len(clips)} {args.half}-half utterances >= {MIN_CLIP_S} s; {kinds}")

    def windows(pair: tuple[Clip, Clip]) -> tuple[np.ndarray, float]:
        joined = np.concatenate([pair[0].audio, pair[1].audio])
        return encoder.embed_partials(joined), len(pair[0].audio) / SAMPLE_RATE

    same_windows = [windows(p) for p in same]
    different_windows = [windows(p) for p in different]
    print(f"windows per second: {RATE}")
    print(
        "split_below  min_windows   two voices: split near join / split at all   one voice: split"
    )
    for min_windows in (2, 3, 4):
        for split_below in (0.55, 0.60, 0.65, 0.70, 0.72, 0.75):
            settings = TurnSettings(split_below=split_below, min_windows=min_windows, max_pieces=2)
            near = split = 0
            for embedded, join_s in different_windows:
                found = turn_boundaries(embedded, settings)
                split += bool(found)
                near += any(abs(boundary_time_s(b) - join_s) <= 1.0 for b in found)
            false = sum(bool(turn_boundaries(e, settings)) for e, _ in same_windows)
            n = len(different_windows)
            print(
                f"{split_below:11.2f}  {min_windows:11d}   {100 * near / n:18.1f} % "
                f"{100 * split / n:14.1f} %   {100 * false / len(same_windows):14.1f} %"
            )


if __name__ == "__main__":
    main()
