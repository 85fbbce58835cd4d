"""The app's settings as plain values: what the desktop app remembers between runs (the overlay's
look, the devices, the engine, the vocabulary, the export folder). No Qt: `app/ui/settings_store.py`
keeps them in QSettings."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

from app.protocol.params import MAX_SPEAKERS

# What the overlay can show: the Settings dialog offers these, a loaded file is held to them.
FONT_SIZE_PT = (12, 72)
LINES = (1, 5)
FADE_MAX_S = 60.0
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass
class OverlayLook:
    font_size: int = 26
    text_color: str = "#ffffff"
    interim_color: str = "#b9c3cf"
    background_color: str = "#101418"
    background_opacity: float = 0.72
    lines: int = 2
    fade_after_s: float = 6.0  # 0: never
    click_through: bool = False
    outline: bool = False  # a contrasting edge around the letters
    hide_from_share: bool = False  # kept out of screen sharing (Windows, macOS: share_hiding.py)

    def within_limits(self) -> OverlayLook:
        """This look with every value the overlay can show: a hand-edited settings file may
        hold anything. A bad colour or a non-number falls back to the default."""
        default = OverlayLook()

        def colour(name: str) -> str:
            value = str(getattr(self, name))
            return value.lower() if _COLOUR.fullmatch(value) else str(getattr(default, name))

        def within(value: float, low: float, high: float, fallback: float) -> float:
            return min(max(value, low), high) if math.isfinite(value) else fallback

        return replace(
            self,
            text_color=colour("text_color"),
            interim_color=colour("interim_color"),
            background_color=colour("background_color"),
            font_size=int(within(self.font_size, *FONT_SIZE_PT, default.font_size)),
            lines=int(within(self.lines, *LINES, default.lines)),
            fade_after_s=within(self.fade_after_s, 0.0, FADE_MAX_S, default.fade_after_s),
            background_opacity=within(
                self.background_opacity, 0.0, 1.0, default.background_opacity
            ),
        )


@dataclass
class AppSettings:
    source: str = "system"  # microphone | system | both
    microphone_id: str = ""
    system_id: str = ""
    engine: str = "whisper"
    model: str = "auto"  # Accuracy: tiny.en (Fast), base (Better), auto, or a model folder
    language: str = "en"
    vocabulary: tuple[str, ...] = ()  # words to favour, sent as keyterms at every Start
    export_folder: str = str(Path.home())
    export_format: str = "txt"
    show_overlay: bool = True
    label_speakers: bool = True  # "Speaker 1", "Speaker 2" ... for the others' voices
    expected_speakers: int = 0  # how many the others are, if the user knows; 0: don't know
    first_run_done: bool = False  # the first-run guide was completed or skipped
    keep_sessions_days: int = 0  # saved sessions older than this are deleted; 0: forever
    retention_confirmed: bool = False  # the user agreed once to the first such delete

    @property
    def max_speakers(self) -> int | None:
        """The labels' cap a stream asks for: only with labels, and never a count the server
        would refuse (the settings file may have been edited by hand)."""
        known = self.label_speakers and 1 <= self.expected_speakers <= MAX_SPEAKERS
        return self.expected_speakers if known else None
