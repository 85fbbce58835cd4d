"""Transcript exporters: pure functions from segments to text, one per format."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from app.domain.transcript import Segment

FORMATS = ("txt", "srt", "vtt", "json", "md")


@dataclass(frozen=True)
class ExportOptions:
    timestamps: bool = True
    labels: bool = True
    title: str = "Transcript"
    names: Mapping[str, str] = field(default_factory=dict)  # label -> the user's name for it


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{separator}{ms:03d}"


def _short_clock(seconds: float) -> str:
    total = max(0, int(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _who(segment: Segment, options: ExportOptions) -> str:
    """Who said it, as the transcript shows it: the user's name for the label, else the label."""
    return options.names.get(segment.source, segment.source) if options.labels else ""


def _label(segment: Segment, options: ExportOptions) -> str:
    who = _who(segment, options)
    return f"{who}: " if who else ""


def _vtt_escaped(text: str, *, in_tag: bool = False) -> str:
    """WebVTT's escapes: `&` and `<` anywhere, `>` too inside a tag (it would end it)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;")
    return text.replace(">", "&gt;") if in_tag else text


def _cue_times(segments: Sequence[Segment]) -> list[tuple[float, float]]:
    """Cue start/end, with ends pushed past starts so strict players accept them."""
    times = []
    for segment in segments:
        end = max(segment.end, segment.start + 0.2)
        times.append((segment.start, end))
    return times


def to_txt(segments: Sequence[Segment], options: ExportOptions = ExportOptions()) -> str:
    lines = []
    for segment in segments:
        stamp = f"[{_short_clock(segment.start)}] " if options.timestamps else ""
        lines.append(f"{stamp}{_label(segment, options)}{segment.text.strip()}")
    return "\n".join(lines) + ("\n" if lines else "")


def to_srt(segments: Sequence[Segment], options: ExportOptions = ExportOptions()) -> str:
    blocks = []
    for index, (segment, (start, end)) in enumerate(
        zip(segments, _cue_times(segments), strict=True), 1
    ):
        blocks.append(
            f"{index}\n{_clock(start, ',')} --> {_clock(end, ',')}\n"
            f"{_label(segment, options)}{segment.text.strip()}\n"
        )
    return "\n".join(blocks)


def to_vtt(segments: Sequence[Segment], options: ExportOptions = ExportOptions()) -> str:
    blocks = ["WEBVTT\n"]
    for segment, (start, end) in zip(segments, _cue_times(segments), strict=True):
        text = _vtt_escaped(segment.text.strip().replace("-->", "->"))
        who = _who(segment, options)
        voice = f"<v {_vtt_escaped(who, in_tag=True)}>" if who else ""
        blocks.append(f"{_clock(start, '.')} --> {_clock(end, '.')}\n{voice}{text}\n")
    return "\n".join(blocks)


def to_json(segments: Sequence[Segment], options: ExportOptions = ExportOptions()) -> str:
    records = []
    for segment in segments:
        record = segment.to_dict()
        name = options.names.get(segment.source)
        if name:  # the name the user gave, and the label it names
            record["source"], record["label"] = name, segment.source
        records.append(record)
    body = {"segments": records}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def to_md(segments: Sequence[Segment], options: ExportOptions = ExportOptions()) -> str:
    lines = [f"# {options.title}", ""]
    for segment in segments:
        stamp = f"**{_short_clock(segment.start)}** " if options.timestamps else ""
        who = _who(segment, options).replace("*", "\\*").replace("_", "\\_")
        label = f"*{who}:* " if who else ""
        lines.append(f"- {stamp}{label}{segment.text.strip()}")
    return "\n".join(lines) + "\n"


EXPORTERS: dict[str, Callable[[Sequence[Segment], ExportOptions], str]] = {
    "txt": to_txt,
    "srt": to_srt,
    "vtt": to_vtt,
    "json": to_json,
    "md": to_md,
}


def export(segments: Sequence[Segment], fmt: str, options: ExportOptions = ExportOptions()) -> str:
    try:
        exporter = EXPORTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    return exporter(segments, options)
