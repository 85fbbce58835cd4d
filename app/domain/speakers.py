"""Speaker labels and the names the user gives them. Pure.

A label is what a final stores as its `source`: the channel ("You", "Others") or, where the
server told the voices apart, "Speaker 1", "Speaker 2" ... A name ("Alice") is what the user
calls a label. Names are kept beside the finals (their own journal lines), never written into
them, so renaming twice, or back, loses nothing.

Each run of a session (Start ... Stop) is a new stream, and the server numbers its voices
from 1 again without knowing who spoke in the earlier runs. So a run's numbers start after
the highest one already in the session: two runs never share a label, and one person heard in
both is two labels the user can give the same name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

from app.domain.transcript import Segment
from app.protocol.messages import Results

SPEAKER_PREFIX = "Speaker "
MAX_NAME_CHARS = 40
_SPEAKER_LABEL = re.compile(r"Speaker (\d+)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def speaker_label(number: int) -> str:
    """The label of the voice the server numbered `number` (1-based, as shown)."""
    return f"{SPEAKER_PREFIX}{number}"


def speaker_number(label: str) -> int | None:
    match = _SPEAKER_LABEL.fullmatch(label)
    return int(match.group(1)) if match else None


def voice_label(
    channel_label: str, results: Results, *, own_voice: bool, numbers_before: int = 0
) -> str:
    """Who a final is shown as: the channel's label ("You" for the user's own microphone), or,
    where the server labelled the voices (diarize), the speaker's label, numbered after the
    `numbers_before` voices of the session's earlier runs."""
    speaker = next((w.speaker for w in results.words if w.speaker is not None), None)
    if own_voice or speaker is None:
        return channel_label
    return speaker_label(numbers_before + speaker + 1)


def numbers_used(segments: Iterable[Segment]) -> int:
    """The highest speaker number in `segments` (0 if none): a new run numbers after it."""
    return max((speaker_number(s.source) or 0 for s in segments), default=0)


def renumbered(label: str, offset: int) -> str:
    """`label` with its speaker number moved up by `offset` (a restored session's voices go
    after the current session's); a channel label is left alone."""
    number = speaker_number(label)
    return label if number is None or offset == 0 else speaker_label(number + offset)


def clean_name(name: str) -> str:
    """The name as it will be shown: one line, single spaces. Raises ValueError, saying
    why, for a name no transcript format can carry."""
    cleaned = " ".join(_CONTROL.sub(" ", name).split())
    if len(cleaned) > MAX_NAME_CHARS:
        raise ValueError(f"a name can have at most {MAX_NAME_CHARS} characters")
    if cleaned.endswith(":"):
        raise ValueError("a name cannot end with ':' (it is written before one)")
    return cleaned


class SpeakerNames(Mapping[str, str]):
    """label -> name, for the labels the user renamed."""

    def __init__(self, names: Mapping[str, str] | None = None) -> None:
        self._names: dict[str, str] = {}
        for label, name in (names or {}).items():
            self.rename(label, name)

    def rename(self, label: str, name: str) -> str:
        """Give `label` a name (cleaned; see `clean_name`); an empty name or the label itself
        takes the name away. Returns what the label is now shown as."""
        if not label:
            raise ValueError("only a labelled line can be renamed")
        cleaned = clean_name(name)
        if cleaned in ("", label):
            self._names.pop(label, None)
        else:
            self._names[label] = cleaned
        return self.shown(label)

    def shown(self, label: str) -> str:
        return self._names.get(label, label)

    def __getitem__(self, label: str) -> str:
        return self._names[label]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def with_offset(segments: Iterable[Segment], names: Mapping[str, str], offset: int) -> tuple[
    list[Segment], dict[str, str]
]:  # fmt: skip
    """A restored session's finals and names with its speaker numbers moved by `offset`."""
    moved = [replace(s, source=renumbered(s.source, offset)) for s in segments]
    return moved, {renumbered(label, offset): name for label, name in names.items()}
