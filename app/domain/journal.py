"""Session journal format (architecture.md §4, a contract): one JSON object per final segment.

Each line holds at least `text`, `start`, `end`, `source` and `is_final: true`. Reading is
forgiving: a torn last line (the app was killed mid-write) is skipped, never fatal.

A speaker's name is a line of its own, `{"rename": label, "name": name}` (an empty name takes
it away), at the moment the user named it; the latest for a label wins. A reader that knows
only segment lines skips it as a foreign line.
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


def encode_rename(label: str, name: str) -> str:
    return json.dumps({"rename": label, "name": name}, ensure_ascii=False) + "\n"


def decode_lines(lines: Iterable[str]) -> list[Segment]:
    return decode_session(lines)[0]


def decode_session(lines: Iterable[str]) -> tuple[list[Segment], dict[str, str]]:
    """The finals, and the speakers' names (label -> name) as last set."""
    segments = []
    names: dict[str, str] = {}
    for line in lines:
        try:
            record = json.loads(line)
            if isinstance(record, dict) and "rename" in record:
                label, name = str(record["rename"]), str(record.get("name", ""))
                if name:
                    names[label] = name
                else:
                    names.pop(label, None)
                continue
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
    return segments, names
