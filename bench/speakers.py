"""Speaker labels (issue 13): who said each utterance, against the eval set's speakers.

    python bench/speakers.py [--ids ID,ID] [--model tiny.en]

Each eval file goes through `captionist transcribe FILE --diarize --events` (embedded server,
as fast as it goes). Every reference utterance (manifest segment) takes the label most of the
final words inside its time span carry. Labels are then mapped one to one onto the reference
speakers, the mapping that gets the most utterances right (exact), and an utterance counts as
right when its label maps to its speaker. Printed per file: utterances,
reference speakers, labels used, and accuracy; then the issue's groups: sessions whose speaker
changes between utterances (commonvoice, librispeech, misc), single-speaker sessions (the share
of utterances under their most used label), and the AMI meeting. And the encoder's cost.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from evalset import eval_dir  # noqa: E402

CHANGING = ("commonvoice_session", "librispeech_session", "misc_session")
SINGLE = ("ljspeech_session", "speechocean")
Label = int | None


def final_words(events: Path) -> list[tuple[float, float, Label]]:
    """(start, end, speaker) of every final word in an events file."""
    words = []
    for line in events.read_text().splitlines():
        message = json.loads(line).get("msg") or {}
        if message.get("type") == "Results" and message.get("is_final"):
            for word in message["channel"]["alternatives"][0]["words"]:
                words.append((word["start"], word["end"], word.get("speaker")))
    return words


def utterance_labels(
    segments: list[dict[str, Any]], words: list[tuple[float, float, Label]]
) -> list[Label]:
    """The label most words inside each segment carry (None: no word there)."""
    labels = []
    for segment in segments:
        inside = [s for a, b, s in words if segment["start"] <= (a + b) / 2 <= segment["end"]]
        votes = Counter(s for s in inside if s is not None)
        labels.append(votes.most_common(1)[0][0] if votes else None)
    return labels


def best_accuracy(speakers: list[str], labels: list[Label]) -> float:
    """The share of utterances right under the best one-to-one mapping of labels onto
    speakers (exact: a dynamic programme over the sets of speakers already taken)."""
    pairs = Counter((s, x) for s, x in zip(speakers, labels, strict=True) if x is not None)
    names = sorted(set(speakers))
    used = sorted({x for x in labels if x is not None}, key=str)
    if len(names) > 16:
        raise ValueError("too many reference speakers for the exact mapping")
    best = {0: 0}  # taken speakers (bitmask) -> most utterances right so far
    for label in used:
        step = dict(best)
        for taken, right in best.items():
            for k, speaker in enumerate(names):
                if not taken & (1 << k):
                    key = taken | (1 << k)
                    step[key] = max(step.get(key, 0), right + pairs[(speaker, label)])
        best = step
    return max(best.values()) / len(speakers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ids", default="")
    parser.add_argument("--model", default="tiny.en")
    args = parser.parse_args()
    wanted = set(filter(None, args.ids.split(",")))
    entries = [
        json.loads(line) for line in (eval_dir() / "manifest.jsonl").read_text().splitlines()
    ]
    entries = [e for e in entries if e.get("segments") and (not wanted or e["id"] in wanted)]
    groups: dict[str, list[int]] = {"changing": [0, 0], "single": [0, 0]}
    print(f"{'file':<34} {'utts':>4} {'spk':>3} {'labels':>6}  accuracy")
    with tempfile.TemporaryDirectory() as scratch:
        for entry in entries:
            events = Path(scratch) / f"{entry['id']}.jsonl"
            command = [sys.executable, "-m", "app", "transcribe", str(eval_dir() / entry["audio"])]
            command += ["--model", args.model, "--diarize", "--events", str(events)]
            subprocess.run(command, cwd=ROOT, capture_output=True, check=True, timeout=1200)
            segments = entry["segments"]
            speakers = [s["speaker"] for s in segments]
            labels = utterance_labels(segments, final_words(events))
            accuracy = best_accuracy(speakers, labels)
            used = len({label for label in labels if label is not None})
            print(f"{entry['id']:<34} {len(segments):4d} {len(set(speakers)):3d} {used:6d}  "
                  f"{accuracy * 100:5.1f} %")  # fmt: skip
            if any(key in entry["id"] for key in CHANGING):
                groups["changing"][0] += round(accuracy * len(segments))
                groups["changing"][1] += len(segments)
            elif any(key in entry["id"] for key in SINGLE):
                top = Counter(labels).most_common(1)[0][1]
                groups["single"][0] += top
                groups["single"][1] += len(segments)
    for name, (right, total) in groups.items():
        if total:
            what = "utterances right" if name == "changing" else "utterances under one label"
            print(f"{name:<9} {right}/{total} {what} ({right / total * 100:.1f} %)")
    print(f"encoder cost: {encoder_cost():.3f} CPU-s per audio second (one thread, 10 s clip)")


def encoder_cost() -> float:
    import numpy as np
    import soundfile as sf

    sys.path.insert(0, str(ROOT))
    from app.server.speakers.encoder import SpeakerEncoder

    audio, _ = sf.read(eval_dir() / "audio" / "pub_commonvoice_01.flac", dtype="float32")
    encoder = SpeakerEncoder.shared()
    encoder.embed(audio)  # warm
    started = time.process_time()
    for _ in range(5):
        encoder.embed(np.asarray(audio))
    return (time.process_time() - started) / 5 / (len(audio) / 16000)


if __name__ == "__main__":
    main()
