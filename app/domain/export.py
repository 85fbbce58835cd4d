"""Transcript exporters: pure functions from segments to text, one per format."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.domain.transcript import Segment

FORMATS = ("txt", "srt", "vtt", "json", "md")


@dataclass(frozen=True)
class ExportOptions:
    timestamps: bool = True
    labels: bool = True
    title: str = "Transcript"


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


def _label(segment: Segment, options: ExportOptions) -> str:
    return f"{segment.source}: " if options.labels and segment.source else ""


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
        text = segment.text.strip().replace("-->", "->")
        voice = f"<v {segment.source}>" if options.labels and segment.source else ""
        blocks.append(f"{_clock(start, '.')} --> {_clock(end, '.')}\n{voice}{text}\n")
    return "\n".join(blocks)


def to_json(segments: Sequence[Segment], options: ExportOptions = ExportOptions()) -> str:
    body = {"segments": [s.to_dict() for s in segments]}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def to_md(segments: Sequence[Segment], options: ExportOptions = ExportOptions()) -> str:
    lines = [f"# {options.title}", ""]
    for segment in segments:
        stamp = f"**{_short_clock(segment.start)}** " if options.timestamps else ""
        label = f"*{segment.source}:* " if options.labels and segment.source else ""
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
