"""Exporters against golden strings; SRT and VTT also through a strict cue parser."""

import json

import pytest

from app.domain.export import EXPORTERS, ExportOptions, export
from app.domain.transcript import Segment, gap_segment
from tests.formats import assert_export_format, strict_cues

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
    for fmt in ("txt", "md"):
        texts = assert_export_format(export(SEGMENTS, fmt, options), fmt, timestamps=False)
        assert texts[1].endswith("Can you hear me?")


def test_json_keeps_every_field() -> None:
    body = json.loads(export(SEGMENTS, "json"))
    assert body["segments"][1] == {
        "text": "Can you hear me?",
        "start": 3661.0,
        "end": 3662.5,
        "source": "Others",
        "is_final": True,
    }


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_strict_parser_accepts_exports_even_for_zero_length_segments(fmt: str) -> None:
    segments = [*SEGMENTS, Segment("Uh", 3670.0, 3670.0, "You"), Segment("a --> b", 3671, 3672)]
    cues = strict_cues(export(segments, fmt), fmt)
    assert len(cues) == 4 and cues[2][1] > cues[2][0]


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
def test_format_reader_accepts_its_format_and_rejects_every_other(fmt: str) -> None:
    # The controller and CLI tests trust this reader to catch an export in the wrong format.
    segments = [*SEGMENTS, gap_segment(3663.0, 2.5)]
    texts = assert_export_format(export(segments, fmt, ExportOptions(title="Meeting")), fmt)
    assert "Can you hear me?" in texts[1] and len(texts) == 3
    for other in sorted(set(EXPORTERS) - {fmt}):
        with pytest.raises(AssertionError):
            assert_export_format(export(segments, other, ExportOptions(title="Meeting")), fmt)


def test_format_reader_rejects_broken_exports() -> None:
    srt, vtt = export(SEGMENTS, "srt"), export(SEGMENTS, "vtt")
    segments = json.loads(export(SEGMENTS, "json"))["segments"]
    first = segments[0]
    broken = {
        "srt": [srt.replace(",", "."), srt.replace("2\n", "3\n")],
        "vtt": [vtt.replace("0.", "0,"), vtt.replace("WEBVTT\n", "")],
        "json": [
            *(json.dumps({"segments": [{**first, key: None}]}) for key in first),  # wrong type
            *(
                json.dumps({"segments": [{k: v for k, v in first.items() if k != key}]})
                for key in first
            ),
            json.dumps({"segments": segments[::-1]}),  # times go back
        ],
        "md": [export(SEGMENTS, "md").replace("# Transcript", "Transcript")],
    }
    for fmt, texts in broken.items():
        for text in texts:
            with pytest.raises(AssertionError):
                assert_export_format(text, fmt)
    with pytest.raises(AssertionError):
        assert_export_format(export(SEGMENTS, "md"), "md", title="Meeting")


def test_an_empty_transcript_exports_an_empty_text_file() -> None:
    assert export([], "txt") == ""


def test_a_cue_at_zero_starts_at_zero_and_a_zero_length_cue_lasts_200_ms() -> None:
    srt = export([Segment("Hi", 0.0, 0.0), Segment("Uh", 1.0, 1.5)], "srt", ExportOptions())
    assert srt == "1\n00:00:00,000 --> 00:00:00,200\nHi\n\n2\n00:00:01,000 --> 00:00:01,500\nUh\n"


def test_vtt_voices_only_labelled_speech_and_defuses_arrows_in_the_text() -> None:
    segments = [Segment("a --> b", 1.0, 2.0, ""), Segment("hi", 2.0, 3.0, "You")]
    assert export(segments, "vtt") == (
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na -> b\n\n"
        "00:00:02.000 --> 00:00:03.000\n<v You>hi\n"
    )
    unlabelled = export(segments, "vtt", ExportOptions(labels=False))
    assert "<v" not in unlabelled and unlabelled.endswith("\nhi\n")


def test_markdown_without_timestamps_or_labels_is_a_plain_list() -> None:
    options = ExportOptions(timestamps=False, labels=False)
    assert export(SEGMENTS, "md", options) == (
        "# Transcript\n\n- Good morning, everyone.\n- Can you hear me?\n"
    )
    unlabelled = [Segment("hi", 1.0, 2.0, "")]
    assert export(unlabelled, "md", ExportOptions(timestamps=False)) == "# Transcript\n\n- hi\n"


def test_json_is_indented_utf8_text() -> None:
    assert export([Segment("café", 1.0, 2.0, "You")], "json") == (
        '{\n  "segments": [\n    {\n      "text": "café",\n      "start": 1.0,\n'
        '      "end": 2.0,\n      "source": "You",\n      "is_final": true\n    }\n  ]\n}\n'
    )


def test_an_unknown_format_names_the_ones_there_are() -> None:
    with pytest.raises(ValueError) as info:
        export(SEGMENTS, "docx")
    assert str(info.value) == "unknown format 'docx'; choose one of txt, srt, vtt, json, md"
