"""A long real-time stream (looped eval speech) through `captionist serve`: memory and lag.

    python bench/soak.py [--minutes 30] [--max-pause 1.0]

The eval set's sessions and meeting, looped, with every pause longer than `--max-pause`
seconds cut to that (talk as a meeting has it: the engine never gets a long rest).

Prints the server's RSS at 1, 10 and 30 minutes (or the chosen length), how far finals trail
the audio in each 5-minute window (a growing figure would mean a growing backlog), and the
drain time after the last audio frame.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evalset import load_items
from streaming import (
    free_port,
    proc_cpu,
    proc_rss_mb,
    start_server,
    transcribe_realtime,
)


def shortened_pauses(audio: np.ndarray, max_pause_s: float) -> np.ndarray:
    """`audio` with every pause (20 ms frames quieter than a tenth of the loudest, in a run)
    longer than `max_pause_s` cut to that: talk as a meeting has it, without long gaps."""
    frame = 320
    frames = audio[: len(audio) // frame * frame].reshape(-1, frame)
    rms = np.sqrt(np.mean(np.square(frames), axis=1))
    quiet = rms < 0.1 * rms.max()
    keep = np.ones(len(frames), dtype=bool)
    longest = round(max_pause_s * 16000 / frame)
    run = 0
    for index, is_quiet in enumerate(quiet):
        run = run + 1 if is_quiet else 0
        keep[index] = run <= longest
    return frames[keep].reshape(-1)


def looped_audio(minutes: float, max_pause_s: float | None) -> np.ndarray:
    sessions = [i for i in load_items() if i.kind in ("session", "meeting")]
    pieces, total = [], 0
    while total < minutes * 60 * 16000:
        for item in sessions:
            audio, _ = soundfile.read(str(item.audio), dtype="float32")
            if max_pause_s is not None:
                audio = shortened_pauses(audio, max_pause_s)
            pieces.append(audio)
            total += len(audio)
    return np.concatenate(pieces)[: int(minutes * 60 * 16000)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--threads", type=int, default=0, help="decode threads (0: the default)")
    parser.add_argument(
        "--max-pause", type=float, default=1.0, help="cut longer pauses to this (0: keep them)"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="captionist-soak-"))
    wav = workdir / "loop.wav"
    soundfile.write(
        wav, looped_audio(args.minutes, args.max_pause or None), 16000, subtype="PCM_16"
    )
    events = workdir / "events.jsonl"
    port = free_port()
    server = start_server(port, args.model, args.threads)
    checkpoints = sorted(
        {1.0, 10.0, 30.0, args.minutes} - {m for m in (10.0, 30.0) if m > args.minutes}
    )
    rss: dict[float, float] = {}
    started = time.monotonic()

    def sample() -> None:
        for minute in checkpoints:
            delay = started + minute * 60 - 2 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            if server.poll() is None:
                rss[minute] = proc_rss_mb(server.pid)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu0 = proc_cpu(server.pid)
    try:
        transcribe_realtime(wav, f"ws://127.0.0.1:{port}/ws/transcribe", events)
        cpu = proc_cpu(server.pid) - cpu0
        sampler.join(timeout=5)
    finally:
        server.terminate()
        server.wait(timeout=30)

    records = [json.loads(line) for line in events.read_text().splitlines()]
    lags: dict[int, list[float]] = {}
    for record in records:
        msg = record["msg"]
        if (
            msg.get("type") == "Results"
            and msg["is_final"]
            and msg["channel"]["alternatives"][0]["words"]
        ):
            end = msg["channel"]["alternatives"][0]["words"][-1]["end"]
            lags.setdefault(int(end // 300), []).append(record["t"] - end)
    print(f"stream length            {args.minutes:.0f} min, real time, model {args.model}")
    for minute in checkpoints:
        print(f"server RSS at {minute:4.0f} min    {rss.get(minute, float('nan')):.0f} MB")
    for window, values in sorted(lags.items()):
        print(
            f"final lag {window * 5:3d}-{window * 5 + 5:<3d} min   "
            f"p50 {np.percentile(values, 50):.2f} s  p90 {np.percentile(values, 90):.2f} s"
            f"  max {max(values):.2f} s"
        )
    print(f"drain after last frame   {records[-1]['t'] - args.minutes * 60:.2f} s")
    print(f"server CPU               {cpu / (args.minutes * 60):.3f} s per audio second")
    print(f"pauses                   at most {args.max_pause:g} s (0: as recorded)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
