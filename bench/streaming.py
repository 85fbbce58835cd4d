"""Stream eval files in real time through `captionist transcribe` and print the figures.

    python bench/streaming.py [--half test] [--model tiny.en|base|auto] [--ids a,b] [--threads 1]

Starts `captionist serve` as its own process (so its CPU and memory are measured alone), runs
`captionist transcribe FILE --server URL --realtime --events ...` for each file (the CLI
contract), and prints: WER of the finals and the offline batch WER of the same model; interim
and final word latency (p50/p90: first time a word shows at its place in an interim / in a
final, minus its end time in an offline faster-whisper run with word timestamps; `--realtime`
sends each 100 ms frame when its last sample would have been captured); server CPU seconds per audio
second; peak server RSS; and the backlog (time from the end of the audio to the last message).
WER is printed per half of the eval set (settings are tuned on `tune`; `test` stands for
speech never heard) and per category, with the utterance-end latency (the manifest's speech end
to the `speech_final` that follows) and the finals that repeat a run of 4 words.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evalset import (
    CATEGORIES,
    EvalItem,
    load_items,
    normalise,
    utterance_delays,
    wer_table,
)

ROOT = Path(__file__).resolve().parents[1]
CAPTIONIST = [sys.executable, "-m", "app"]


@dataclass
class FileRun:
    item: EvalItem
    finals: str
    latencies_final: list[float] = field(default_factory=list)
    latencies_first: list[float] = field(default_factory=list)
    drain_s: float = 0.0
    matched: int = 0
    words: int = 0
    utterance_delays: list[float] = field(default_factory=list)  # speech end -> speech_final
    repeats: list[str] = field(default_factory=list)  # finals repeating a run of 4 words
    cpu_s: float = 0.0  # server CPU seconds while this file streamed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, model: str, threads: int) -> subprocess.Popen[bytes]:
    """`captionist serve`; `threads` 0 is the server's default. Its log goes to a file (a pipe
    nobody reads would stall a server that logs for half an hour)."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [*CAPTIONIST, "serve", "--port", str(port), "--model", model]
        + (["--threads", str(threads)] if threads else []),
        cwd=ROOT,
        stderr=log,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None:
                log.seek(0)
                raise SystemExit(  # noqa: B904 - the server's own error is the news
                    f"server died: {log.read().decode(errors='replace')}"
                )
            time.sleep(0.2)
    raise SystemExit("server did not start")


def transcribe_command(audio: Path, url: str, events: Path) -> list[str]:
    """The CLI contract: `captionist transcribe AUDIO --server URL --realtime --events F`."""
    options = ["--server", url, "--realtime", "--events", str(events)]
    return [*CAPTIONIST, "transcribe", str(audio), *options]


def transcribe_realtime(audio: Path, url: str, events: Path) -> None:
    subprocess.run(
        transcribe_command(audio, url, events),
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def offline_words(
    model_path: str, items: list[EvalItem]
) -> tuple[dict[str, list[tuple[str, float]]], dict[str, str]]:
    """Word end times and batch transcripts from plain faster-whisper (its defaults)."""
    from faster_whisper import WhisperModel

    model = WhisperModel(model_path, device="cpu", compute_type="int8", cpu_threads=2)
    words: dict[str, list[tuple[str, float]]] = {}
    texts: dict[str, str] = {}
    for item in items:
        segments, _ = model.transcribe(str(item.audio), language="en", word_timestamps=True)
        segs = list(segments)
        texts[item.id] = " ".join(s.text.strip() for s in segs)
        words[item.id] = [
            (normalise(w.word), w.end) for s in segs for w in (s.words or []) if normalise(w.word)
        ]
    return words, texts


TimedWord = tuple[str, float, float]  # (normalised word, audio start, audio end)
# How far the same word's timestamps may move between hypotheses (Whisper's word times are
# re-estimated by every decode): the alignment prefers the nearest, this only bounds it.
MAX_SHIFT_S = 1.5


def align(finals: Sequence[TimedWord], hypothesis: Sequence[TimedWord]) -> list[tuple[int, int]]:
    """Pairs (final index, hypothesis index) of one monotonic alignment of two word sequences.

    Only equal words whose starts lie within MAX_SHIFT_S pair up; the alignment with the most
    pairs wins, then the one with the least total time shift. In order, so in "the cat the"
    a hypothesis's second "the" can never stand for the first, nor its first for the second.
    """
    n, m = len(finals), len(hypothesis)
    # best[i][j]: (pairs, -shift) of the best alignment of finals[:i] with hypothesis[:j]
    best = [[(0, 0.0)] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        word, start, _ = finals[i - 1]
        for j in range(1, m + 1):
            options = [best[i - 1][j], best[i][j - 1]]
            h_word, h_start, _ = hypothesis[j - 1]
            shift = abs(h_start - start)
            if h_word == word and shift <= MAX_SHIFT_S:
                pairs, neg_shift = best[i - 1][j - 1]
                options.append((pairs + 1, neg_shift - shift))
            best[i][j] = max(options)
    pairs_found: list[tuple[int, int]] = []
    i, j = n, m
    while i and j:
        word, start, _ = finals[i - 1]
        h_word, h_start, _ = hypothesis[j - 1]
        shift = abs(h_start - start)
        if h_word == word and shift <= MAX_SHIFT_S:
            pairs, neg_shift = best[i - 1][j - 1]
            if best[i][j] == (pairs + 1, neg_shift - shift):
                pairs_found.append((i - 1, j - 1))
                i, j = i - 1, j - 1
                continue
        if best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    return pairs_found[::-1]


def first_sightings(
    finals: Sequence[TimedWord],
    final_arrivals: Sequence[float],
    hypotheses: Sequence[tuple[float, Sequence[TimedWord]]],
) -> list[float]:
    """When each final word was first shown: its final's arrival, or an earlier hypothesis's.

    `hypotheses` are (arrival, words) of every Results message, interim or final. Each is
    aligned to the final words that lie in its time span, so a word is credited only to the
    final word at its place, never to an earlier or later occurrence of the same word.
    """
    first = list(final_arrivals)
    for arrival, words in hypotheses:
        if not words:
            continue
        lo, hi = words[0][1] - MAX_SHIFT_S, words[-1][1] + MAX_SHIFT_S
        span = [k for k, (_, start, _) in enumerate(finals) if lo <= start <= hi]
        for i, _ in align([finals[k] for k in span], words):
            k = span[i]
            first[k] = min(first[k], arrival)
    return first


def analyse(item: EvalItem, events_path: Path, reference: list[tuple[str, float]]) -> FileRun:
    from app.server.asr.repetition import repeated_ngram

    events = [json.loads(line) for line in events_path.read_text().splitlines()]
    finals: list[TimedWord] = []
    final_arrivals: list[float] = []
    hypotheses: list[tuple[float, list[TimedWord]]] = []  # every Results: (arrival t, words)
    speech_finals_at: list[float] = []
    repeats: list[str] = []
    last_t = 0.0
    for event in events:
        msg = event["msg"]
        last_t = max(last_t, event["t"])
        if msg.get("type") != "Results":
            continue
        words = [
            (piece, float(word["start"]), float(word["end"]))
            for word in msg["channel"]["alternatives"][0]["words"]
            for piece in normalise(word["word"]).split()
        ]
        hypotheses.append((event["t"], words))
        if msg["is_final"]:
            finals.extend(words)
            final_arrivals.extend([event["t"]] * len(words))
            if msg.get("speech_final"):
                speech_finals_at.append(event["t"])
            if repeated_ngram([w for w, _, _ in words]):
                repeats.append(msg["transcript"])
    first = first_sightings(finals, final_arrivals, hypotheses)
    run = FileRun(item, " ".join(w for w, _, _ in finals), drain_s=last_t - item.duration)
    # Frames are sent as they would be captured, so audio time and `t` share one clock.
    run.utterance_delays = utterance_delays(list(item.speech_ends), speech_finals_at)
    run.repeats = repeats
    hyp = [w for w, _, _ in finals]
    ref = [w for w, _ in reference]
    matcher = difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            ref_end = reference[block.a + k][1]
            run.latencies_final.append(final_arrivals[block.b + k] - ref_end)
            run.latencies_first.append(first[block.b + k] - ref_end)
            run.matched += 1
    run.words = len(ref)
    return run


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--ids", default="")
    parser.add_argument("--half", choices=("tune", "test", "all"), default="all")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--threads", type=int, default=0, help="decode threads (0: the default)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()

    items = load_items()
    if args.ids:
        wanted = set(args.ids.split(","))
        items = [i for i in items if i.id in wanted]
    if args.half != "all":
        items = [i for i in items if i.half == args.half]
    if args.limit:
        items = items[: args.limit]
    args.out.mkdir(parents=True, exist_ok=True)

    sys.path.insert(0, str(ROOT))
    from app.models.store import ModelStore

    reference_model = "tiny.en" if args.model == "auto" else args.model
    model_path = str(ModelStore().resolve(reference_model).path)
    print(f"offline reference run on {len(items)} files…", file=sys.stderr)
    reference, batch_texts = offline_words(model_path, items)

    port = free_port()
    server = start_server(port, args.model, args.threads)
    url = f"ws://127.0.0.1:{port}/ws/transcribe"
    runs: list[FileRun] = []
    audio_total = 0.0
    try:
        cpu0 = proc_cpu(server.pid)
        for n, item in enumerate(items, 1):
            events = args.out / f"{item.id}.events.jsonl"
            before = proc_cpu(server.pid)
            transcribe_realtime(item.audio, url, events)
            audio_total += item.duration
            run = analyse(item, events, reference[item.id])
            run.cpu_s = proc_cpu(server.pid) - before
            runs.append(run)
            print(
                f"[{n}/{len(items)}] {item.id}: final p50 {pct(run.latencies_final, 50):.2f} s"
                f"  drain {run.drain_s:.2f} s",
                file=sys.stderr,
            )
        cpu = proc_cpu(server.pid) - cpu0
        peak = proc_peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)

    finals_lat = [x for r in runs for x in r.latencies_final]
    first_lat = [x for r in runs for x in r.latencies_first]
    utterance_lat = [x for r in runs for x in r.utterance_delays]
    matched = sum(r.matched for r in runs)
    words = sum(r.words for r in runs)
    print(
        f"files                       {len(runs)} ({audio_total / 60:.1f} min of audio, "
        f"model {args.model}, {args.threads or 'default'} decode thread(s))"
    )
    for line in wer_table([(r.item, r.finals) for r in runs], batch_texts):
        print(line)
    print(f"interim latency p50 / p90   {pct(first_lat, 50):.2f} s / {pct(first_lat, 90):.2f} s")
    print(f"final latency   p50 / p90   {pct(finals_lat, 50):.2f} s / {pct(finals_lat, 90):.2f} s")
    utterance_p50, utterance_p90 = pct(utterance_lat, 50), pct(utterance_lat, 90)
    print(f"speech end -> final p50/p90 {utterance_p50:.2f} s / {utterance_p90:.2f} s")
    repeats = [text for r in runs for text in r.repeats]
    print(f"finals repeating 4 words    {len(repeats)}")
    for text in repeats:
        print(f"  {text}")
    print(f"words timed                 {matched} of {words} offline words matched")
    print(f"server CPU                  {cpu / audio_total:.3f} s per audio second")
    print(f"server peak RSS             {peak:.0f} MB")
    drains = [r.drain_s for r in runs]
    print(f"backlog at end (drain)      p50 {pct(drains, 50):.2f} s, max {max(drains):.2f} s")
    print_categories(runs)
    return 0


def print_categories(runs: list[FileRun]) -> None:
    """Per category: first sighting p50, final p50/p90, speech end -> final p50, server CPU."""
    print("per category      first p50  final p50/p90  end->final p50  CPU per audio s")
    for category in CATEGORIES:
        chosen = [r for r in runs if r.item.category == category]
        if not chosen:
            continue
        first = [x for r in chosen for x in r.latencies_first]
        final = [x for r in chosen for x in r.latencies_final]
        ends = [x for r in chosen for x in r.utterance_delays]
        cpu = sum(r.cpu_s for r in chosen) / sum(r.item.duration for r in chosen)
        print(
            f"  {category:14s}  {pct(first, 50):5.2f} s   {pct(final, 50):5.2f} /"
            f" {pct(final, 90):.2f} s   {pct(ends, 50):5.2f} s        {cpu:.3f}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
