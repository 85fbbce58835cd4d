"""Compare streaming-ASR settings on the eval set, deterministically and faster than real time.

    python bench/tune.py '{}' '{"interim_step_s": 0.5}' '{"beam_size": 3}' [--ids a,b] [-v]

Each argument is one variant: TranscriberConfig fields, plus `beam_size` for the decoder.
Every file goes through the real engine's streaming transcriber frame by frame, each frame
processed before the next (`tests.streaming.transcribe_in_order`): the decodes real-time
pacing would run when the engine keeps up, as `bench/streaming.py` measures, without the
wall-clock time or the scheduling noise. Streaming faster than real time instead skips
interim decodes, and once hid the gain of beam search. Prints the corpus WER of each variant
next to the offline batch WER; `-v` adds the errors per file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from evalset import corpus_wer, load_items, normalise  # noqa: E402
from streaming import offline_words  # noqa: E402


def word_errors(reference: str, hypothesis: str) -> int:
    import jiwer

    out = jiwer.process_words(normalise(reference), normalise(hypothesis) or "<empty>")
    return int(out.substitutions + out.deletions + out.insertions)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help="JSON objects of settings")
    parser.add_argument("--ids", default="", help="comma-separated eval ids (default: all)")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    import soundfile

    from app.server.asr.transcriber import TranscriberConfig
    from app.server.engines.whisper import WhisperEngine
    from tests.streaming import transcribe_in_order

    items = load_items()
    if args.ids:
        wanted = set(args.ids.split(","))
        items = [item for item in items if item.id in wanted]
    engine = WhisperEngine.load(args.model, threads=2)
    print(f"offline reference run on {len(items)} files…", file=sys.stderr)
    _, batch = offline_words(str(engine.model.path), items)
    print(
        f"offline batch WER  {corpus_wer([(i.text_norm, batch[i.id]) for i in items]) * 100:.2f} %"
    )
    for variant in args.variants:
        settings = json.loads(variant)
        beam_size = settings.pop("beam_size", None)
        tuning = TranscriberConfig(**settings)
        started = time.monotonic()
        pairs = []
        for item in items:
            audio, _ = soundfile.read(str(item.audio), dtype="float32")
            text = asyncio.run(
                transcribe_in_order(engine, audio, tuning=tuning, beam_size=beam_size)
            )
            pairs.append((item.text_norm, text))
            if args.verbose:
                errors = word_errors(item.text_norm, text)
                batch_errors = word_errors(item.text_norm, batch[item.id])
                print(f"  {item.id:36s} errors {errors:3d}  batch {batch_errors:3d}")
        seconds = time.monotonic() - started
        print(f"{variant:50s} streaming WER {corpus_wer(pairs) * 100:.2f} %  ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
