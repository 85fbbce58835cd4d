"""Compare streaming-ASR settings on the eval set, deterministically and faster than real time.

    python bench/tune.py '{}' '{"settle_age_s": 3.0}' '{"beam_size": 3}' [--half tune] [-v]

Each argument is one variant: TranscriberConfig fields, plus `beam_size` for the decoder.
Every file goes through the real engine's streaming transcriber frame by frame, each frame
processed before the next (`tests.streaming.stepped_messages`): the decodes real-time pacing
would run when the engine keeps up, as `bench/streaming.py` measures, without the wall-clock
time or the scheduling noise. Prints, per variant and per half of the eval set (tune on
`tune`, report `test`), the WER of the finals by category next to the offline batch decode,
the finals that repeat a run of 4 words, and how long words wait to become final in audio
time (compute time excluded; `bench/streaming.py` measures it in real time).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from evalset import (  # noqa: E402
    EvalItem,
    load_items,
    utterance_delays,
    wer_table,
    word_count,
    word_errors,
)

OUT = ROOT / "bench" / "out"


@dataclass
class FileResult:
    item: EvalItem
    text: str
    repeats: list[str] = field(default_factory=list)
    final_delays: list[float] = field(default_factory=list)  # word end -> final, audio seconds
    utterance_delays: list[float] = field(default_factory=list)  # speech end -> speech_final


def offline_transcripts(model: str, model_path: str, items: list[EvalItem]) -> dict[str, str]:
    """faster-whisper's batch decode of each file (its defaults), cached in bench/out/."""
    cache = OUT / f"offline-{model.replace('/', '_')}.json"
    known: dict[str, str] = json.loads(cache.read_text()) if cache.is_file() else {}
    missing = [i for i in items if i.id not in known]
    if missing:
        from faster_whisper import WhisperModel

        print(f"offline reference run on {len(missing)} files…", file=sys.stderr)
        batch = WhisperModel(model_path, device="cpu", compute_type="int8", cpu_threads=2)
        for item in missing:
            segments, _ = batch.transcribe(str(item.audio), language="en")
            known[item.id] = " ".join(s.text.strip() for s in segments)
        OUT.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(known, indent=1))
    return known


def analyse(item: EvalItem, messages: list[tuple[float, object]]) -> FileResult:
    from app.protocol.messages import Results
    from app.server.asr.repetition import repeated_ngram

    finals = [(at, m) for at, m in messages if isinstance(m, Results) and m.is_final]
    result = FileResult(item, " ".join(m.transcript for _, m in finals if m.transcript))
    for at, message in finals:
        gram = repeated_ngram([w.word for w in message.words])
        if gram:
            result.repeats.append(f"{' '.join(gram)!r} in {message.transcript!r}")
        result.final_delays += [at - w.end for w in message.words]
    speech_final_at = [at for at, m in finals if m.speech_final]
    result.utterance_delays = utterance_delays(list(item.speech_ends), speech_final_at)
    return result


def keyterm_insertions(results: list[FileResult], terms: tuple[str, ...]) -> dict[str, int]:
    """How often each term is in a transcript more often than in its reference."""
    counts: dict[str, int] = {}
    for result in results:
        for term in terms:
            pattern = re.compile(rf"\b{re.escape(term.lower())}\b")
            extra = len(pattern.findall(result.text.lower())) - len(
                pattern.findall(result.item.text_norm.lower())
            )
            if extra > 0:
                counts[term] = counts.get(term, 0) + extra
    return counts


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(results: list[FileResult], batch: dict[str, str]) -> None:
    for line in wer_table([(r.item, r.text) for r in results], batch):
        print(line)
    for half in ("tune", "test"):
        chosen = [r for r in results if r.item.half == half]
        if not chosen:
            continue
        delays = [d for r in chosen for d in r.final_delays]
        utterances = [d for r in chosen for d in r.utterance_delays]
        repeats = [rep for r in chosen for rep in r.repeats]
        print(
            f"  {half}: word end->final p50 {percentile(delays, 0.5):.2f} s"
            f" p90 {percentile(delays, 0.9):.2f} s, speech end->final p50"
            f" {percentile(utterances, 0.5):.2f} s (audio time), finals repeating a run of"
            f" 4 words: {len(repeats)}"
        )
        for rep in repeats:
            print(f"    repeat: {rep}")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("variants", nargs="+", help="JSON objects of settings")
    parser.add_argument("--ids", default="", help="comma-separated eval ids (default: all)")
    parser.add_argument("--half", choices=("tune", "test", "all"), default="all")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--dump", type=Path, help="write each file's finals to DIR/<id>.txt")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    import soundfile

    from app.server.asr.settings import TranscriberConfig
    from app.server.engines.whisper import WhisperEngine
    from tests.streaming import stepped_messages

    items = load_items()
    if args.ids:
        wanted = set(args.ids.split(","))
        items = [item for item in items if item.id in wanted]
    if args.half != "all":
        items = [item for item in items if item.half == args.half]
    engine = WhisperEngine.load(args.model, threads=args.threads)
    batch = offline_transcripts(args.model, str(engine.model.path), items)
    for variant in args.variants:
        settings = json.loads(variant)
        beam_size = settings.pop("beam_size", None)
        if "keyterms" in settings:
            settings["keyterms"] = tuple(settings["keyterms"])
        tuning = TranscriberConfig(**settings)
        started, cpu = time.monotonic(), time.process_time()
        results = []
        for item in items:
            audio, _ = soundfile.read(str(item.audio), dtype="float32")
            messages = asyncio.run(
                stepped_messages(engine, audio, tuning=tuning, beam_size=beam_size)
            )
            result = analyse(item, messages)  # type: ignore[arg-type]
            results.append(result)
            if args.dump:
                args.dump.mkdir(parents=True, exist_ok=True)
                (args.dump / f"{item.id}.txt").write_text(result.text + "\n")
            if args.verbose:
                errors = word_errors(item.text_norm, result.text)
                batch_errors = word_errors(item.text_norm, batch[item.id])
                print(
                    f"  {item.id:36s} {item.half:4s} errors {errors:3d}  batch {batch_errors:3d}"
                    f"  words {word_count(item.text_norm)}",
                    flush=True,
                )
        audio_s = sum(r.item.duration for r in results)
        cpu_per_s = (time.process_time() - cpu) / max(1e-9, audio_s)
        print(
            f"{variant}  ({time.monotonic() - started:.0f} s, {cpu_per_s:.3f} s CPU per audio s"
            f" stepped, model {args.model})"
        )
        report(results, batch)
        if tuning.keyterms:
            inserted = keyterm_insertions(results, tuning.keyterms)
            print(f"  keyterms inserted where not said: {sum(inserted.values())} {inserted or ''}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
