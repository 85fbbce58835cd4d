"""A long file without pauses, transcribed as fast as the server goes and in real time.

    python bench/long_file.py [--minutes 10] [--model tiny.en] [--realtime]

The speech of the eval set's read and accented files (each utterance cut at its speech
bounds) is joined with 60 ms gaps into one file of `--minutes`: no pause the endpointer can
use, so every final must come from a settle inside one long utterance. `captionist transcribe
FILE` (embedded server) runs without `--realtime`, and with it when asked. Printed for each:
exit code, wall time, the seconds reported lost, and WER against the joined reference.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from evalset import eval_dir, whisper_normalise  # noqa: E402

GAP_S = 0.06
RATE = 16000
OUT = ROOT / "bench" / "out"


def speech_bounds(audio: np.ndarray) -> dict[str, float]:
    """First and last 20 ms frame louder than a tenth of the loudest (a clip's own silence
    at its ends would give the endpointer a pause)."""
    frames = audio[: len(audio) // 320 * 320].reshape(-1, 320)
    rms = np.sqrt(np.mean(np.square(frames), axis=1))
    loud = np.flatnonzero(rms > 0.1 * rms.max())
    return {"speech_start": loud[0] * 0.02, "speech_end": (loud[-1] + 1) * 0.02}


def joined_speech(minutes: float, speech: Path | None = None) -> tuple[Path, str]:
    """The speech in `speech` (a manifest's folder; the eval set by default) joined into one
    file of `minutes` (cached), and its reference text."""
    import json

    source = speech or eval_dir()
    path = OUT / f"joined-{source.name}-{minutes:g}min.flac"
    reference = path.with_suffix(".txt")
    if path.is_file() and reference.is_file():
        return path, reference.read_text()
    parts: list[np.ndarray] = []
    texts: list[str] = []
    total = 0.0
    gap = np.zeros(round(GAP_S * RATE), dtype=np.float32)
    manifest = (source / "manifest.jsonl").read_text().splitlines()
    for entry in map(json.loads, manifest):
        if entry["kind"] == "meeting":
            continue  # overlapping speakers: no single reference order
        audio, rate = sf.read(source / entry["audio"], dtype="float32")
        assert rate == RATE
        segments = entry.get("segments") or [{**speech_bounds(audio), "text": entry["text"]}]
        for segment in segments:
            a = max(0, round((segment["speech_start"] - 0.05) * RATE))
            b = round((segment["speech_end"] + 0.05) * RATE)
            parts += [audio[a:b], gap]
            texts.append(segment["text"])
            total += (b - a) / RATE + GAP_S
            if total >= minutes * 60:
                break
        if total >= minutes * 60:
            break
    OUT.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.concatenate(parts), RATE)
    reference.write_text(" ".join(texts))
    return path, " ".join(texts)


def transcribe(path: Path, model: str, *, realtime: bool) -> tuple[int, float, str, str]:
    command = [sys.executable, "-m", "app", "transcribe", str(path), "--model", model]
    started = time.monotonic()
    run = subprocess.run(
        [*command, *(["--realtime"] if realtime else [])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    return run.returncode, time.monotonic() - started, run.stdout, run.stderr


def main() -> None:
    import jiwer

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--realtime", action="store_true", help="also the real-time run")
    args = parser.parse_args()
    path, reference = joined_speech(args.minutes)
    seconds = sf.info(path).duration
    print(f"{path.name}: {seconds / 60:.1f} min of speech joined with {GAP_S * 1000:.0f} ms "
          f"gaps, model {args.model}")  # fmt: skip
    for realtime in [False, *([True] if args.realtime else [])]:
        code, wall, text, err = transcribe(path, args.model, realtime=realtime)
        lost = sum(float(s) for s in re.findall(r"([\d.]+) s of audio lost", err))
        wer = jiwer.wer(whisper_normalise(reference), whisper_normalise(text)) * 100
        name = "real time" if realtime else "as fast as it goes"
        print(f"  {name:<19} exit {code}  {wall:6.1f} s wall  lost {lost:.1f} s  WER {wer:5.2f} %")
        if code != 0:
            print("    " + "\n    ".join(err.strip().splitlines()[-5:]))


if __name__ == "__main__":
    main()
