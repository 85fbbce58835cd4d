"""Session journal format (architecture.md §4, a contract): one JSON object per final segment.

Each line holds at least `text`, `start`, `end`, `source` and `is_final: true`. Reading is
forgiving: a torn last line (the app was killed mid-write) is skipped, never fatal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from app.domain.transcript import Segment


def encode_line(segment: Segment) -> str:
    record = segment.to_dict()
    record["is_final"] = True
    record["speech_final"] = segment.speech_final
    return json.dumps(record, ensure_ascii=False) + "\n"


def decode_lines(lines: Iterable[str]) -> list[Segment]:
    segments = []
    for line in lines:
        try:
            record = json.loads(line)
            segments.append(
                Segment(
                    str(record["text"]),
                    float(record["start"]),
                    float(record["end"]),
                    str(record.get("source", "")),
                    True,
                    bool(record.get("speech_final", True)),  # older lines: one per utterance
                    float(record.get("gap_s", 0.0)),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue  # a torn or foreign line
    return segments
