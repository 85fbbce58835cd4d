"""Session journal format (a contract: docs/user-guide.md): one JSON object per final segment.

Each line holds at least `text`, `start`, `end`, `source` and `is_final: true`. Reading is
forgiving: a torn last line (the app was killed mid-write) is skipped, never fatal.

Other records are lines of their own, appended when the user acts (a journal is never
rewritten), and the latest of each kind wins:
- a speaker's name, `{"rename": label, "name": name}` (an empty name takes it away);
- the session's title, `{"title": title}` (empty: back to the default, the first words);
- a correction of a final's words, `{"edit": {"start": s, "source": label, "text": words}}`,
  naming the final by its label and start as its line has them (app/domain/edits.py); the
  final's own line keeps the words heard, and readers return the final corrected.
A reader that knows only segment lines skips them as foreign lines (they have no `text`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.domain.edits import EditKey, apply_edits, edit_key_of
from app.domain.transcript import Segment

MAX_TITLE_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class JournalRecords:
    """Everything a journal holds, as last set."""

    segments: list[Segment] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # label -> the user's name for it
    title: str | None = None  # the user's title; None: never given (or taken back)


def encode_line(segment: Segment) -> str:
    record = segment.to_dict()
    record["is_final"] = True
    record["speech_final"] = segment.speech_final
    if segment.original:  # a corrected final (restored): the words heard, then the edit
        record["text"] = segment.original
        return json.dumps(record, ensure_ascii=False) + "\n" + encode_edit(segment, segment.text)
    return json.dumps(record, ensure_ascii=False) + "\n"


def encode_edit(segment: Segment, text: str) -> str:
    """The final `segment` corrected to read `text`: named by its label and start."""
    final = {"start": round(segment.start, 3), "source": segment.source, "text": text}
    return json.dumps({"edit": final}, ensure_ascii=False) + "\n"


def decode_edit(final: Any) -> tuple[EditKey, str]:
    """Raises KeyError, TypeError or ValueError for what is not an edit."""
    return edit_key_of(str(final["source"]), float(final["start"])), str(final["text"])


def encode_rename(label: str, name: str) -> str:
    return json.dumps({"rename": label, "name": name}, ensure_ascii=False) + "\n"


def clean_title(title: str) -> str:
    """The title as a list shows it: one line, single spaces. Raises ValueError, saying why,
    for one too long to show."""
    cleaned = _one_line(title)
    if len(cleaned) > MAX_TITLE_CHARS:
        raise ValueError(f"a title can have at most {MAX_TITLE_CHARS} characters")
    return cleaned


def encode_title(title: str) -> str:
    """A title record (cleaned; see `clean_title`); an empty title takes the user's away."""
    return json.dumps({"title": clean_title(title)}, ensure_ascii=False) + "\n"


def decode_lines(lines: Iterable[str]) -> list[Segment]:
    return decode_journal(lines).segments


def decode_session(lines: Iterable[str]) -> tuple[list[Segment], dict[str, str]]:
    """The finals (as corrected: each keeps the words heard), and the speakers' names
    (label -> name) as last set."""
    records = decode_journal(lines)
    return records.segments, records.names


def decode_journal(lines: Iterable[str]) -> JournalRecords:
    segments: list[Segment] = []
    names: dict[str, str] = {}
    title: str | None = None
    edits: dict[EditKey, str] = {}
    for line in lines:
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                continue  # valid JSON, not one of ours
            if "rename" in record:
                _apply_rename(names, record)
            elif "edit" in record:
                key, text = decode_edit(record["edit"])
                edits[key] = text  # the latest edit of a final wins
            elif "title" in record and "text" not in record:
                title = _decoded_title(record["title"], title)
            else:
                segments.append(_decoded_segment(record))
        except (ValueError, KeyError, TypeError):
            continue  # a torn or foreign line
    return JournalRecords(apply_edits(segments, edits), names, title)


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def _apply_rename(names: dict[str, str], record: dict[str, Any]) -> None:
    label, name = str(record["rename"]), str(record.get("name", ""))
    if name:
        names[label] = name
    else:
        names.pop(label, None)


def _decoded_title(value: object, before: str | None) -> str | None:
    if not isinstance(value, str):
        return before  # not a title anyone set: the one before stands
    # Cut, not refused: the writer checks the length; a hand-edited line is still read.
    return _one_line(value)[:MAX_TITLE_CHARS] or None


def _decoded_segment(record: dict[str, Any]) -> Segment:
    return Segment(
        str(record["text"]),
        float(record["start"]),
        float(record["end"]),
        str(record.get("source", "")),
        True,
        bool(record.get("speech_final", True)),  # older lines: one per utterance
        float(record.get("gap_s", 0.0)),
    )
