"""What a newcomer's computer may lack, each named with the command that fixes it: a display
for the window, a sound server to capture from, the speech model. The desktop app checks the
display before Qt starts (Qt's own message says to reinstall, which never helps), and
`captionist --selftest` reports all three."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.audio.devices import PactlError, pactl
from app.errors import ModelError, ModelNotFound
from app.models.store import ModelStore

# Platforms Qt draws without a desktop session (tests, the self-test, a VNC server).
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "linuxfb", "eglfs")


@dataclass(frozen=True)
class Problem:
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.what}. {self.fix}"


def display_problem(
    env: Mapping[str, str] = os.environ, platform: str = sys.platform
) -> Problem | None:
    if not platform.startswith("linux") or env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    if env.get("QT_QPA_PLATFORM", "").split(":")[0] in HEADLESS_PLATFORMS:
        return None
    return Problem(
        "No display to show Captionist's window on (neither DISPLAY nor WAYLAND_DISPLAY is set)",
        "Start it from your desktop session. Without one, `captionist transcribe FILE` captions"
        " a recording in the terminal, and `xvfb-run captionist` runs the window on a virtual"
        " display (Debian package xvfb)",
    )


def sound_server_problem(
    run_pactl: Callable[..., str] = pactl, platform: str = sys.platform
) -> Problem | None:
    if not platform.startswith("linux"):
        return None  # WASAPI and Core Audio need no sound server of their own
    try:
        run_pactl("info")
    except PactlError as exc:
        if "not found" in str(exc):
            return Problem(
                "pactl is missing: Captionist cannot list or capture the sound server's devices",
                "Install it: `sudo apt install pulseaudio-utils`",
            )
        return Problem(
            f"No sound server answers ({exc})",
            "Start it: `systemctl --user start pipewire-pulse` (PipeWire) or `pulseaudio"
            " --start` (PulseAudio)",
        )
    return None


def model_problem(store: ModelStore, name: str = "tiny.en") -> Problem | None:
    try:
        store.resolve(name)
    except ModelNotFound:
        return Problem(
            f"The speech model {name} is not installed",
            f"Install it: `captionist models install {name}`",
        )
    except ModelError as exc:
        return Problem(
            f"The speech model {name} cannot be used ({exc})",
            f"Install it again: `captionist models install {name}`",
        )
    return None
