"""Choose the speaker clustering thresholds on the eval set's tuning half only.

    python bench/speaker_tune.py [--sessions 200] [--seed 1]

bench/speakers.py scores the app end to end on the eval sessions, but the sessions whose
speaker changes are few (45 utterances), and 35 of them are in the test half. Thresholds
fitted to them would not carry over. So this script builds many sessions from the tuning
half's voices alone: the four voices with many utterances (LJ Speech, three speechocean
adults) recur, and the one-clip voices (Common Voice clips, the tuning session's speakers,
JFK) each speak once, in a random order, as in a call where people come and go. Each
utterance is embedded from its reference span (as a final's span would be) and labelled by
SpeakerClusters in order. Printed per threshold pair: utterance accuracy after the best
mapping, labels per session against true speakers, and the share of one-voice sessions kept
under one label. Pick from this table, then report bench/speakers.py's test half.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from evalset import TEST_HALF, eval_dir  # noqa: E402
from speakers import best_accuracy  # noqa: E402

from app.server.asr.speaker_clusters import ClusterSettings, SpeakerClusters  # noqa: E402
from app.server.speakers.encoder import SpeakerEncoder  # noqa: E402


@dataclass(frozen=True)
class Utterance:
    speaker: str
    duration_s: float
    embedding: np.ndarray


def tuning_utterances() -> list[Utterance]:
    encoder = SpeakerEncoder.shared()
    utterances = []
    for line in (eval_dir() / "manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry["id"] in TEST_HALF or "ami" in entry["id"]:
            continue
        audio, rate = sf.read(eval_dir() / entry["audio"], dtype="float32")
        spans = entry.get("segments") or [
            {"start": 0.0, "end": len(audio) / rate, "speaker": entry["id"]}
        ]
        for span in spans:
            clip = audio[int(span["start"] * rate) : int(span["end"] * rate)]
            speaker = f"{entry['id'].split('_session')[0]}:{span['speaker']}"
            if "ljspeech" in entry["id"]:
                speaker = "ljspeech"  # both LJ sessions are one reader
            utterances.append(Utterance(speaker, len(clip) / rate, encoder.embed(clip)))
    return utterances


def sessions(utterances: list[Utterance], count: int, seed: int) -> list[list[Utterance]]:
    by_speaker: dict[str, list[Utterance]] = {}
    for utterance in utterances:
        by_speaker.setdefault(utterance.speaker, []).append(utterance)
    recurring = [s for s, us in by_speaker.items() if len(us) >= 5]
    once = [us[0] for s, us in by_speaker.items() if len(us) < 5]
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        session = [u for s in rng.sample(recurring, 2) for u in rng.sample(by_speaker[s], 5)]
        session += rng.sample(once, rng.randint(2, 6))
        rng.shuffle(session)
        made.append(session)
    return made


def labelled(session: list[Utterance], settings: ClusterSettings) -> list[int]:
    clusters = SpeakerClusters(settings)
    labels, clock = [], 0.0
    for utterance in session:
        labels.append(clusters.assign(utterance.embedding, utterance.duration_s, clock))
        clock += utterance.duration_s + 0.5
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    utterances = tuning_utterances()
    mixed = sessions(utterances, args.sessions, args.seed)
    singles = [
        [u for u in utterances if u.speaker == s]
        for s, n in Counter(u.speaker for u in utterances).items()
        if n >= 5
    ]
    print(f"{len(utterances)} tuning utterances, {len(mixed)} mixed sessions")
    print("new   match  found  changing  labels/true  one-voice")
    grid = [
        ClusterSettings(match_threshold=match, new_speaker_threshold=new)
        for new in (0.60, 0.65, 0.68, 0.70, 0.72, 0.74, 0.76, 0.78, 0.80, 0.82)
        for match in sorted({max(new, 0.75), max(new + 0.05, 0.75)})
    ]
    chosen = ClusterSettings()
    grid += [replace(chosen, min_new_speaker_s=s) for s in (0.6, 0.8, 1.0, 1.2, 2.0)]
    for settings in grid:
        right = total = 0
        ratio = []
        for session in mixed:
            labels = labelled(session, settings)
            speakers = [u.speaker for u in session]
            right += round(best_accuracy(speakers, list(labels)) * len(session))
            total += len(session)
            ratio.append(len(set(labels)) / len(set(speakers)))
        kept = sum(Counter(labelled(s, settings)).most_common(1)[0][1] for s in singles)
        one_voice = kept / sum(len(s) for s in singles)
        print(
            f"{settings.new_speaker_threshold:.2f}  {settings.match_threshold:.2f}  "
            f"{settings.min_new_speaker_s:4.1f} s  {right / total * 100:5.1f} %   "
            f"{np.mean(ratio):5.2f}        {one_voice * 100:5.1f} %"
        )


if __name__ == "__main__":
    main()
