"""Exporters against golden strings; SRT and VTT also through a strict cue parser."""

import json
import re

import pytest

from app.domain.export import ExportOptions, export
from app.domain.transcript import Segment

SEGMENTS = [
    Segment("Good morning, everyone.", 0.5, 2.25, "You"),
    Segment("Can you hear me?", 3661.0, 3662.5, "Others"),
]

GOLDEN = {
    "txt": "[00:00] You: Good morning, everyone.\n[1:01:01] Others: Can you hear me?\n",
    "srt": (
        "1\n00:00:00,500 --> 00:00:02,250\nYou: Good morning, everyone.\n\n"
        "2\n01:01:01,000 --> 01:01:02,500\nOthers: Can you hear me?\n"
    ),
    "vtt": (
        "WEBVTT\n\n00:00:00.500 --> 00:00:02.250\n<v You>Good morning, everyone.\n\n"
        "01:01:01.000 --> 01:01:02.500\n<v Others>Can you hear me?\n"
    ),
    "md": (
        "# Meeting\n\n- **00:00** *You:* Good morning, everyone.\n"
        "- **1:01:01** *Others:* Can you hear me?\n"
    ),
}


@pytest.mark.parametrize("fmt", sorted(GOLDEN))
def test_golden(fmt: str) -> None:
    assert export(SEGMENTS, fmt, ExportOptions(title="Meeting")) == GOLDEN[fmt]


def test_without_timestamps_and_labels() -> None:
    options = ExportOptions(timestamps=False, labels=False)
    assert export(SEGMENTS, "txt", options) == "Good morning, everyone.\nCan you hear me?\n"
    assert "You" not in export(SEGMENTS, "srt", options)


def test_json_keeps_every_field() -> None:
    body = json.loads(export(SEGMENTS, "json"))
    assert body["segments"][1] == {
        "text": "Can you hear me?",
        "start": 3661.0,
        "end": 3662.5,
        "source": "Others",
        "is_final": True,
    }


CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)[,.](\d\d\d) --> (\d\d):(\d\d):(\d\d)[,.](\d\d\d)$")


def strict_cues(text: str, fmt: str) -> list[tuple[float, float, str]]:
    """A strict reader: numbered blocks (SRT) or a WEBVTT header, valid increasing times."""
    blocks = text.strip("\n").split("\n\n")
    if fmt == "vtt":
        assert blocks.pop(0) == "WEBVTT"
    cues = []
    for number, block in enumerate(blocks, 1):
        lines = block.split("\n")
        if fmt == "srt":
            assert lines.pop(0) == str(number)
        match = CUE.match(lines[0])
        assert match, lines[0]
        g = [int(x) for x in match.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        assert end > start and (not cues or start >= cues[-1][0])
        assert lines[1:] and all(line.strip() for line in lines[1:])
        cues.append((start, end, "\n".join(lines[1:])))
    return cues


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_strict_parser_accepts_exports_even_for_zero_length_segments(fmt: str) -> None:
    segments = [*SEGMENTS, Segment("Uh", 3670.0, 3670.0, "You"), Segment("a --> b", 3671, 3672)]
    cues = strict_cues(export(segments, fmt), fmt)
    assert len(cues) == 4 and cues[2][1] > cues[2][0]
