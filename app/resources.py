"""Where `resources/` is: beside the package in a checkout or wheel, inside a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


SAMPLE = "samples/jfk.flac"
SAMPLE_WORDS = ("country", "americans")  # words a working engine must hear in the sample
