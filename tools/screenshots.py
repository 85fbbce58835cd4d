"""The README's pictures, made from the real app so they never go stale (`make screenshots`):

    python -m tools.screenshots [--out docs/images]

On a private X server (Xvfb, openbox for stay-on-top, xcompmgr for the overlay's translucency)
a stand-in video call fills the screen (tools/call_scene.py) and the desktop app captions a
real recording from tests/speech on a fresh profile. Once captions have come, it saves
`overlay-over-call.png` (the whole screen, the main window minimised) and `main-window.png`
(the main window with its transcript). Needs the packages .ci/run installs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from app.domain.journal import decode_lines
from tests.xserver import compositor_ready, start_xvfb, window_manager_ready

ROOT = Path(__file__).resolve().parents[1]
RECORDING = ROOT / "tests" / "speech" / "audio" / "pub_librispeech_session_01.flac"
TOOLS = ("Xvfb", "openbox", "xcompmgr", "xdotool", "xprop", "import")
T = TypeVar("T")


def wait_for(check: Callable[[], T], seconds: float, what: str) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise SystemExit(f"screenshots: gave up waiting for {what} after {seconds:.0f} s")


def finals(sessions: Path) -> int:
    """Finals with words journaled so far (a line being written is skipped by the reader)."""
    journals = sessions.glob("*.jsonl") if sessions.is_dir() else ()
    lines = [line for j in journals for line in j.read_text(errors="replace").splitlines()]
    return sum(1 for s in decode_lines(lines) if s.text.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    if missing := [tool for tool in TOOLS if shutil.which(tool) is None]:
        raise SystemExit(f"screenshots: missing {', '.join(missing)} (the packages in .ci/run)")
    args.out.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="captionist-shots-"))
    xvfb, display = start_xvfb("1280x800x24")
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT)}
    started: list[subprocess.Popen[bytes]] = [xvfb]

    def launch(*command: str, **extra: str) -> subprocess.Popen[bytes]:
        started.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env={**env, **extra},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        return started[-1]

    def xdotool(*arguments: str) -> str:
        return subprocess.run(
            ["xdotool", *arguments], env=env, capture_output=True, text=True, timeout=10
        ).stdout.strip()

    def shoot(name: str, window: str = "root") -> None:
        path = args.out / name
        subprocess.run(["import", "-window", window, str(path)], env=env, check=True, timeout=20)
        print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

    try:
        launch("openbox")
        wait_for(lambda: window_manager_ready(display), 20, "openbox")
        launch("xcompmgr", "-n")
        wait_for(lambda: compositor_ready(display), 20, "xcompmgr")
        launch(sys.executable, "-m", "tools.call_scene")
        wait_for(
            lambda: xdotool("search", "--onlyvisible", "--name", "^Team meeting$"), 30, "the call"
        )
        launch(
            sys.executable,
            "-m",
            "app",
            "gui",
            "--file",
            str(RECORDING),
            CAPTIONIST_DATA_DIR=str(profile / "data"),
            CAPTIONIST_LOG_DIR=str(profile / "logs"),
            CAPTIONIST_CACHE_DIR=str(profile / "cache"),
            XDG_CONFIG_HOME=str(profile / "config"),
            CAPTIONIST_NO_DIALOGS="1",
        )
        main_window = wait_for(
            lambda: xdotool("search", "--onlyvisible", "--name", "^Captionist$").split(),
            60,
            "the main window",
        )[0]
        sessions = profile / "data" / "sessions"
        wait_for(lambda: finals(sessions) >= 4, 120, "four captions")
        xdotool("windowminimize", "--sync", main_window)
        time.sleep(1.0)  # the compositor repaints what the main window covered
        shoot("overlay-over-call.png")
        wait_for(lambda: finals(sessions) >= 8, 120, "eight captions")
        xdotool("windowmap", "--sync", main_window)
        xdotool("windowactivate", "--sync", main_window)
        time.sleep(1.0)
        shoot("main-window.png", main_window)
    finally:
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(profile, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
