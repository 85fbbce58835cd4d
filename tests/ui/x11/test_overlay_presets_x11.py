"""Each overlay colour preset on a real, composited X screen (Xvfb + openbox + xcompmgr), over
a light and a dark desktop at once: the finals keep a WCAG contrast of 4.5 against the panel as
it is seen there, translucency and all. One screenshot per preset (and one with the outline and
the reading-back hint) goes to tests/ui/x11/shots/overlay-*.png."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.ui.overlay.presets import PRESETS, READABLE, contrast_ratio
from tests.conftest import ROOT
from tests.ui.x11.test_gui_x11 import geometry, screenshot, window_ids
from tests.waiting import wait_until

pytestmark = pytest.mark.x11

SCENES = [(preset.name, ()) for preset in PRESETS] + [
    ("White on black", ("--outline", "--read-back"))
]


@pytest.fixture
def scene(display: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[None]:
    preset, options = request.param
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    with (tmp_path / "scene.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ui.x11.overlay_scene", preset, *options],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "shown", (tmp_path / "scene.log").read_text()
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def hex_colour(pixel: np.ndarray) -> str:
    return "#" + "".join(f"{int(channel):02x}" for channel in pixel)


def panel_seen(region: np.ndarray) -> str:
    """The most common colour of a region of the overlay: its panel over the desktop."""
    colours, counts = np.unique(region.reshape(-1, 3), axis=0, return_counts=True)
    return hex_colour(colours[counts.argmax()])


def pixels_of(region: np.ndarray, colour: str) -> int:
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(region.astype(int) - target).sum(axis=2) < 30).sum())


def slug(preset: str, options: tuple[str, ...]) -> str:
    return "-".join(["overlay", *preset.lower().split(), *(o.strip("-") for o in options)])


@pytest.mark.parametrize("scene", SCENES, ids=[slug(*scene) for scene in SCENES], indirect=True)
def test_each_preset_is_readable_over_a_light_and_a_dark_desktop(
    display: str, scene: None, request: pytest.FixtureRequest
) -> None:
    preset_name, options = request.node.callspec.params["scene"]
    (preset,) = [preset for preset in PRESETS if preset.name == preset_name]
    (window,) = wait_until(
        lambda: window_ids(display, "Captionist captions"), 20, "the overlay window", 0.1
    )
    x, y, width, height = geometry(display, window)
    name = slug(preset_name, options)

    def painted() -> list[np.ndarray]:
        shot = screenshot(display, name)
        box = shot[y + 20 : y + height - 20, x + 20 : x + width - 20]
        return [box] if pixels_of(box, preset.text) > 1000 else []

    (box,) = wait_until(painted, 20, "the captions on screen", 0.2)
    half = box.shape[1] // 2
    for side, region in (("light", box[:, :half]), ("dark", box[:, half:])):
        seen = panel_seen(region)
        ratio = contrast_ratio(preset.text, seen)
        assert ratio >= READABLE, f"{preset_name} over the {side} desktop: {ratio:.1f} on {seen}"
        assert pixels_of(region, preset.text) > 300, f"no captions over the {side} desktop"
