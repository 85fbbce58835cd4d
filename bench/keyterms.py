"""Keyterms on names: how many come out right where they are said, and what they cost.

    python bench/keyterms.py [--half tune|test|all] [--model tiny.en] [-v]

Each eval file that names people or places is streamed (stepped, as bench/tune.py does)
with its own names as keyterms, and without. Printed per half (tune on `tune`, report
`test`, whose names were never looked at while fitting `vocabulary.MIN_LIKENESS`): of the
names' occurrences in the references, how many the finals write (recall), with keyterms and
without, and names written more often than said. Then 20 terms said nowhere, passed on
every file of the half, and on 30 s of silence: how often any of them appears.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from evalset import EvalItem, load_items  # noqa: E402

# The names in the references, by file (capitalised words other than a sentence's first).
NAMES: dict[str, tuple[str, ...]] = {
    "pub_ljspeech_session_01": ("Gutenberg", "Netherlands"),
    "pub_ljspeech_session_02": (
        "Maintz", "Pannartz", "Peter Schoeffer", "Sweynheim", "Subiaco", "Lubeck", "Basle",
        "Strasburg", "Gutenberg",
    ),
    "pub_commonvoice_01": ("Constable Beaver",),
    "pub_commonvoice_03": ("Hancock",),
    "pub_commonvoice_05": ("Avon River", "Valencia Creek"),
    "pub_commonvoice_06": ("Leonardo",),
    "pub_commonvoice_08": ("Takahashi", "Yu-Gi-Oh"),
    "pub_commonvoice_session_01": ("Waterford Valley",),
    "pub_commonvoice_13": ("Cowper Stone", "Stanage End"),
    "pub_commonvoice_14": ("Dublin City",),
    "pub_commonvoice_16": ("Fabius",),
    "pub_commonvoice_19": ("Liberian",),
    "pub_misc_session_01": ("Philip Steels", "Whittemore"),
}  # fmt: skip
# Twenty terms said nowhere in the eval set: a user's list for some other meeting.
NEVER_SAID = (
    "Kubernetes", "Nguyen", "Siobhan", "Reykjavik", "PostgreSQL", "Oaxaca", "Tchaikovsky",
    "Worcestershire", "Xiaomi", "Dvořák", "Quetzalcoatl", "Zanzibar", "Ljubljana", "Okonkwo",
    "Saoirse", "Yggdrasil", "Kilimanjaro", "Wojciech", "Fujifilm", "Captionist",
)  # fmt: skip


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split())


def count(term: str, text: str) -> int:
    return len(re.findall(rf"\b{re.escape(norm(term))}\b", norm(text)))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--half", choices=("tune", "test", "all"), default="all")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    import soundfile

    from app.protocol.messages import Results
    from app.server.asr.settings import TranscriberConfig
    from app.server.engines.whisper import WhisperEngine
    from tests.streaming import stepped_messages

    engine = WhisperEngine.load(args.model, threads=args.threads)

    def transcript(audio: np.ndarray, keyterms: tuple[str, ...]) -> str:
        tuning = TranscriberConfig(keyterms=keyterms)
        messages = asyncio.run(stepped_messages(engine, audio, tuning=tuning))
        finals = [m for _, m in messages if isinstance(m, Results) and m.is_final]
        return " ".join(m.transcript for m in finals if m.transcript)

    items: list[EvalItem] = load_items()
    halves = ("tune", "test") if args.half == "all" else (args.half,)
    for half in halves:
        chosen = [i for i in items if i.half == half]
        started, cpu = time.monotonic(), time.process_time()
        said = right = right_plain = extra = 0
        for item in (i for i in chosen if i.id in NAMES):
            audio, _ = soundfile.read(str(item.audio), dtype="float32")
            terms = NAMES[item.id]
            biased, plain = transcript(audio, terms), transcript(audio, ())
            for term in terms:
                n = count(term, item.text_norm)
                got, got_plain = count(term, biased), count(term, plain)
                said, right, right_plain = (
                    said + n,
                    right + min(n, got),
                    right_plain + min(n, got_plain),
                )
                extra += max(0, got - n)
                if args.verbose:
                    print(f"  {item.id:28s} {term:18s} said {n}  with {got}  without {got_plain}")
        print(
            f"{half} half names ({args.model}): {right}/{said} right with keyterms"
            f" ({100 * right / max(1, said):.0f} %), {right_plain}/{said} without;"
            f" {extra} written more often than said"
        )
        inserted: dict[str, int] = {}
        for item in chosen:
            audio, _ = soundfile.read(str(item.audio), dtype="float32")
            text = transcript(audio, NEVER_SAID)
            for term in NEVER_SAID:
                if found := count(term, text):
                    inserted[term] = inserted.get(term, 0) + found
                    print(f"    {item.id}: {term!r} in {text!r}")
        silence = transcript(np.zeros(30 * 16000, dtype=np.float32), NEVER_SAID)
        print(
            f"{half} half, 20 never-said terms on {len(chosen)} files: {sum(inserted.values())}"
            f" insertions {inserted or ''}; 30 s of silence gives {silence!r}"
            f"  ({time.monotonic() - started:.0f} s, {time.process_time() - cpu:.0f} s CPU)"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
