"""Strict readers for the export formats, shared by the exporter, controller and CLI tests.

A test that only looks for a phrase in an export passes when every format comes out as TXT;
these readers check each format's structure, so a file with the wrong format fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# The JSON exporter writes Segment.to_dict(): these fields, with these types, always.
JSON_FIELDS: dict[str, type | tuple[type, ...]] = {
    "text": str,
    "start": (int, float),
    "end": (int, float),
    "source": str,
    "is_final": bool,
}
JSON_OPTIONAL = {
    "gap_s": (int, float),  # only on a marker for lost audio
    "label": str,  # only where the user named the label: `source` is then the name
}

_TIME = r"(\d\d):(\d\d):(\d\d){sep}(\d\d\d)"
# SRT wants a comma before the milliseconds, WebVTT a full stop; players reject the other one.
CUE = {
    fmt: re.compile(f"^{_TIME.format(sep=sep)} --> {_TIME.format(sep=sep)}$")
    for fmt, sep in (("srt", ","), ("vtt", r"\."))
}
SHORT_CLOCK = r"(?:(\d+):)?(\d\d):(\d\d)"  # m:ss, or h:mm:ss from an hour on
TXT_LINE = re.compile(rf"^\[{SHORT_CLOCK}\] (\S.*)$")
MD_ITEM = re.compile(rf"^\*\*{SHORT_CLOCK}\*\* (\S.*)$")  # after the "- "


def _seconds(h: str | None, m: str, s: str) -> int:
    return int(h or 0) * 3600 + int(m) * 60 + int(s)


def strict_cues(text: str, fmt: str) -> list[tuple[float, float, str]]:
    """A strict reader: numbered blocks (SRT) or a WEBVTT header, valid increasing times."""
    blocks = text.strip("\n").split("\n\n")
    if fmt == "vtt":
        assert blocks.pop(0) == "WEBVTT"
    cues: list[tuple[float, float, str]] = []
    for number, block in enumerate(blocks, 1):
        lines = block.split("\n")
        if fmt == "srt":
            assert lines.pop(0) == str(number)
        match = CUE[fmt].match(lines[0])
        assert match, f"not a {fmt} cue time line: {lines[0]!r}"
        g = [int(x) for x in match.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        assert end > start and (not cues or start >= cues[-1][0])
        assert lines[1:] and all(line.strip() for line in lines[1:])
        cues.append((start, end, "\n".join(lines[1:])))
    return cues


def _json_texts(text: str) -> list[str]:
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"not JSON: {exc}") from None
    assert isinstance(body, dict) and set(body) == {"segments"}, body
    segments = body["segments"]
    assert isinstance(segments, list)
    texts, last_start = [], 0.0
    for segment in segments:
        assert isinstance(segment, dict)
        missing = set(JSON_FIELDS) - set(segment)
        assert not missing, f"segment lacks {sorted(missing)}: {segment}"
        assert set(segment) <= set(JSON_FIELDS) | set(JSON_OPTIONAL), segment
        for key, value in segment.items():
            kind = JSON_FIELDS.get(key) or JSON_OPTIONAL[key]
            # bool is an int in Python, but true is not a time in JSON.
            assert isinstance(value, kind) and (kind is bool or not isinstance(value, bool)), (
                f"{key}={value!r}"
            )
        assert last_start <= segment["start"] <= segment["end"], segment
        last_start = segment["start"]
        texts.append(segment["text"])
    return texts


def _stamped(lines: list[str], pattern: re.Pattern[str], fmt: str, timestamps: bool) -> list[str]:
    """The text of each line after its [m:ss] (TXT) or **m:ss** (MD) stamp; stamps in order."""
    texts, last = [], 0
    for line in lines:
        if not timestamps:
            assert line.strip(), f"blank {fmt} line"
            texts.append(line)
            continue
        match = pattern.match(line)
        assert match, f"not a {fmt} line: {line!r}"
        at = _seconds(*match.groups()[:3])
        assert at >= last, f"{fmt} stamps go back at {line!r}"
        last = at
        texts.append(match.group(4))
    return texts


def _md_texts(text: str, title: str | None, timestamps: bool) -> list[str]:
    assert text.endswith("\n")
    heading, blank, *items = text[:-1].split("\n")
    assert heading.startswith("# ") and heading[2:].strip(), f"no title heading: {heading!r}"
    assert title is None or heading == f"# {title}", heading
    assert blank == ""
    assert all(item.startswith("- ") for item in items), items
    return _stamped([item[2:] for item in items], MD_ITEM, "md", timestamps)


def _txt_texts(text: str, timestamps: bool) -> list[str]:
    assert text.endswith("\n")
    lines = text[:-1].split("\n")
    # Plain lines: none of the other formats' markers.
    assert lines[0] != "WEBVTT" and not lines[0].startswith(("# ", "{")), lines[0]
    assert not any(" --> " in line or line.startswith("- ") for line in lines), lines
    assert not any(CUE["srt"].match(line) or CUE["vtt"].match(line) for line in lines)
    return _stamped(lines, TXT_LINE, "txt", timestamps)


def assert_export_format(
    export: Path | str, fmt: str, *, title: str | None = None, timestamps: bool = True
) -> list[str]:
    """Assert that `export` (a file, or the text itself) is a well-formed, non-empty `fmt`
    export as app.domain.export writes it; return the caption texts, in order.

    `title` pins the Markdown heading; `timestamps` says whether TXT and MD lines carry stamps.
    """
    text = export.read_text(encoding="utf-8") if isinstance(export, Path) else export
    if fmt in ("srt", "vtt"):
        texts = [cue[2] for cue in strict_cues(text, fmt)]
    elif fmt == "json":
        texts = _json_texts(text)
    elif fmt == "md":
        texts = _md_texts(text, title, timestamps)
    elif fmt == "txt":
        texts = _txt_texts(text, timestamps)
    else:
        raise ValueError(f"no reader for {fmt!r}")
    assert texts, f"no captions in the {fmt} export"
    return texts
