"""The overlay's colour presets, and the WCAG 2 contrast they are held to.

Colours are "#rrggbb" strings; nothing here needs Qt. A look's preset is read from its three
colours, so the settings file stores no preset name that could disagree with them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.services.settings import OverlayLook


@dataclass(frozen=True)
class ColourPreset:
    name: str
    text: str  # settled words
    interim: str  # words still being recognised (drawn in italics too)
    background: str


# The first is the default look. Interims are kept apart from finals by luminance (a contrast
# ratio of at least 1.5 between them) and are still readable on the panel themselves.
PRESETS = (
    ColourPreset("White on black", "#ffffff", "#b9c3cf", "#101418"),
    ColourPreset("Yellow on black", "#ffff00", "#b9c3cf", "#101418"),
    ColourPreset("Black on white", "#000000", "#3d5a80", "#ffffff"),
)
CUSTOM = "Custom"
READABLE = 4.5  # WCAG 2 level AA for body text


def _channels(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def relative_luminance(colour: str) -> float:
    """WCAG 2's relative luminance of an sRGB colour: 0 for black, 1 for white."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2's contrast ratio, 1 (none) to 21 (black on white); the order does not matter."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def composite(colour: str, under: str, alpha: float) -> str:
    """The colour seen where `colour` at opacity `alpha` lies over `under`."""
    mixed = (
        round(top * alpha + bottom * (1 - alpha))
        for top, bottom in zip(_channels(colour), _channels(under), strict=True)
    )
    return "#" + "".join(f"{channel:02x}" for channel in mixed)


def outline_colour(text: str) -> str:
    """Black around light letters, white around dark ones: whichever contrasts more."""
    black, white = "#000000", "#ffffff"
    return black if contrast_ratio(text, black) >= contrast_ratio(text, white) else white


def preset_name(look: OverlayLook) -> str:
    """The preset whose colours `look` has, or CUSTOM."""
    chosen = (look.text_color, look.interim_color, look.background_color)
    for preset in PRESETS:
        if chosen == (preset.text, preset.interim, preset.background):
            return preset.name
    return CUSTOM


def with_preset(look: OverlayLook, name: str) -> OverlayLook:
    """`look` in the colours of the preset called `name` (unchanged for CUSTOM)."""
    for preset in PRESETS:
        if preset.name == name:
            return replace(
                look,
                text_color=preset.text,
                interim_color=preset.interim,
                background_color=preset.background,
            )
    return look
