"""A colour for each speaker label in the transcript panel. No Qt.

A label is drawn in black or white on a chip of its colour, whichever contrasts more, so it
reads the same on a light, a dark or a high-contrast window palette: the palette is only
around the chip. "You" is always one blue, "Others" (everyone on the system audio, not told
apart) one grey. Voices the server numbered take the palette in
order, so two voices one after the other never share a colour; any other label ("Others", a
recording's channel) picks one by a checksum of its text, the same in every run (Python's
str hash is salted per process).
"""

from __future__ import annotations

import zlib

from app.audio.base import OWN_VOICE
from app.domain.speakers import speaker_number

YOU_COLOUR = "#1565c0"  # blue
OTHERS_COLOUR = "#455a64"  # blue grey
OTHERS = "Others"  # the system audio's label (app/audio/capture.py)
_PALETTE = (  # none of them blue: "You" stays apart from everyone else
    "#00695c",  # teal
    "#6a1b9a",  # purple
    "#e65100",  # orange
    "#2e7d32",  # green
    "#ad1457",  # pink
    "#4e342e",  # brown
    "#f9a825",  # yellow
    "#283593",  # indigo
    "#c62828",  # red
    "#00838f",  # cyan
)


def palette() -> tuple[str, ...]:
    return _PALETTE


def label_colour(label: str) -> str:
    """The chip colour of `label` ("" for none: a marker for lost audio has no label)."""
    if not label:
        return ""
    if label == OWN_VOICE:
        return YOU_COLOUR
    if label == OTHERS:
        return OTHERS_COLOUR
    number = speaker_number(label)
    index = number - 1 if number is not None else zlib.crc32(label.encode("utf-8"))
    return _PALETTE[index % len(_PALETTE)]


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of "#rrggbb"."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def ink_on(fill: str) -> str:
    """Black or white, whichever reads better on `fill`."""
    return max(("#000000", "#ffffff"), key=lambda ink: contrast_ratio(fill, ink))
