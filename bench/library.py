"""The session library at scale: index build, listing and search over many journals.

    python bench/library.py [--sessions 500] [--segments 200000]

Writes that many journals (in a temp dir, through the journal's own line format), then times,
through app/services/library (the API the library window and `captionist sessions` use):
1. the first index build (every journal read, `<data>/library.sqlite` written);
2. listing, warm (the index is current: only the journals' sizes and times are checked);
3. one journal appended to, then listed: only it is read again;
4. searches (~20 queries: common and rare words, prefixes, phrases, FTS5 operators typed as
   words), p50 and max;
5. opening the longest session.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.domain.journal import encode_line, encode_rename, encode_title  # noqa: E402
from app.domain.transcript import Segment, gap_segment  # noqa: E402

T = TypeVar("T")

# A few hundred everyday words, and rare ones a search singles out.
COMMON = tuple(
    " ".join(
        [
            "the of and to a in is it you that he was for on are with as I his they be at one",
            "have this from or had by not word but what some we can out other were all there",
            "when up use your how said an each she which do their time if will way about many",
            "then them write would like so these her long make thing see him two has look more",
            "day could go come did number sound no most people my over know water than call",
            "first who may down side been now find any new work part take get place made live",
            "where after back little only round man year came show every good me give our under",
            "name very through just form sentence great think say help low line differ turn",
            "cause much mean before move right boy old too same tell does set three want air",
            "well also play small end put home read hand port large spell add even land here",
            "must big high such follow act why ask men change went light",
        ]
    ).split()
)
RARE = ["budget", "roadmap", "Kubernetes", "café", "naïve", "O'Brien", "Zoë", "quarterly"]
QUERIES = [
    "the",
    "budget",
    "roadmap",
    "kuber*",
    "cafe",
    "naïve",
    "O'Brien",
    "zoe",
    "quarterly budget",
    '"said the"',
    "wat*",
    "th*",
    "people water",
    "AND",
    "NOT budget",
    "-roadmap",
    "year*",
    '"good me"',
    "sentence",
    "nothingmatchesthis",
]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(COMMON) for _ in range(rng.randint(3, 12))]
    if rng.random() < 0.02:
        words.insert(rng.randrange(len(words)), rng.choice(RARE))
    return " ".join(words).capitalize() + "."


def build_library(sessions_dir: Path, sessions: int, segments: int, *, seed: int = 14) -> list[str]:
    """Write `sessions` journals holding `segments` finals in all; their ids, oldest first.
    Some have speakers' names and titles; one in fifty has a gap marker."""
    rng = random.Random(seed)
    sessions_dir.mkdir(parents=True, exist_ok=True)
    start = datetime(2024, 1, 1, 9, 0, 0)
    ids = []
    per_session = [
        segments // sessions + (1 if i < segments % sessions else 0) for i in range(sessions)
    ]
    for number, count in enumerate(per_session):
        session_id = (start + timedelta(hours=7 * number)).strftime("%Y-%m-%dT%H-%M-%S")
        sources = rng.choice([("You", "Others"), ("Speaker 1", "Speaker 2", "You"), ("Others",)])
        lines, t = [], 0.0
        for index in range(count):
            if index == count // 2 and number % 50 == 0:
                lines.append(encode_line(gap_segment(t, 2.0)))
                t += 2.0
            text = _sentence(rng)
            length = 0.3 * len(text.split())
            source = rng.choice(sources)
            lines.append(
                encode_line(Segment(text, t, t + length, source, True, rng.random() < 0.6))
            )
            t += length + rng.choice([0.1, 0.4, 1.5])
        if "Speaker 1" in sources and number % 3 == 0:
            lines.append(encode_rename("Speaker 1", rng.choice(["Alice", "Bob", "Chen"])))
        if number % 4 == 0:
            lines.append(encode_title(f"Meeting {number}"))
        (sessions_dir / f"{session_id}.jsonl").write_text("".join(lines), encoding="utf-8")
        ids.append(session_id)
    return ids


def _timed(job: Callable[[], T]) -> tuple[float, T]:
    began = time.perf_counter()
    result = job()
    return time.perf_counter() - began, result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--segments", type=int, default=200_000)
    args = parser.parse_args()

    from app.services.library import SessionLibrary

    with tempfile.TemporaryDirectory(prefix="captionist-library-") as temp:
        sessions = Path(temp) / "sessions"
        ids = build_library(sessions, args.sessions, args.segments)
        size = sum(p.stat().st_size for p in sessions.glob("*.jsonl")) / 1e6
        print(f"library: {len(ids)} sessions, {args.segments} segments, {size:.1f} MB of journals")

        library = SessionLibrary(sessions)
        build_s, listed = _timed(library.sessions)
        index_mb = (sessions.parent / "library.sqlite").stat().st_size / 1e6
        print(f"first index build + list: {_ms(build_s)} ({index_mb:.1f} MB index)")

        warm = [_timed(library.sessions)[0] for _ in range(5)]
        print(f"list, warm: median {_ms(statistics.median(warm))}, max {_ms(max(warm))}")

        fresh = SessionLibrary(sessions)  # as a new process (the CLI) finds it
        print(f"list, index on disk, new library object: {_ms(_timed(fresh.sessions)[0])}")

        with (sessions / f"{ids[-1]}.jsonl").open("a", encoding="utf-8") as journal:
            journal.write(encode_line(Segment("one more budget line", 1e5, 1e5 + 1, "You")))
        print(f"list after one journal grew: {_ms(_timed(library.sessions)[0])}")

        times, hits = [], []
        for query in QUERIES:
            seconds, found = _timed(lambda q=query: library.search(q))  # type: ignore[misc]
            times.append(seconds)
            hits.append(len(found))
        print(
            f"search ({len(QUERIES)} queries, every hit): p50 {_ms(statistics.median(times))}, "
            f"max {_ms(max(times))} (hits per query: median {statistics.median(hits):.0f}, "
            f"max {max(hits)})"
        )
        limited = [
            _timed(lambda q=query: library.search(q, limit=200))[0]  # type: ignore[misc]
            for query in QUERIES
        ]
        p50 = statistics.median(limited)
        print(f"search, first 200 hits: p50 {_ms(p50)}, max {_ms(max(limited))}")

        longest = max(listed, key=lambda s: s.segments)
        open_s = _timed(lambda: library.open(longest.id))[0]
        print(f"open the longest session ({longest.segments} segments): {_ms(open_s)}")
        library.close()
        fresh.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
