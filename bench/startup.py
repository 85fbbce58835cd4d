"""Start-up time of the desktop app: to the window shown, and to ready to caption.

    python bench/startup.py [--runs 3] [--bundle dist/captionist/captionist] [--xvfb]
    python bench/startup.py --first-caption [RECORDING]

With --first-caption: what a new user waits for, launch -> the first caption of a recording
journaled (`captionist gui --file RECORDING`, Auto), on a fresh profile (no settings, no
models joined yet, no CPU figure) and then on the second run of that profile.

Starts the app (the venv's `python -m app`, or a bundle's executable), reads its log lines
"window shown" and "ready to caption" (the model loaded and verified, the embedded server
listening), then stops it with SIGTERM. The first run follows a page-cache drop when the
machine allows it (a cold start); the rest are warm. Offscreen Qt unless --xvfb.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.domain.journal import decode_lines  # noqa: E402

MARKS = ("window shown", "ready to caption")


def drop_caches() -> bool:
    try:
        subprocess.run(["sync"], check=True)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def one_start(command: list[str], env: dict[str, str]) -> dict[str, float]:
    started = time.monotonic()
    proc = subprocess.Popen(
        [*command, "--log-level", "INFO"],
        cwd=tempfile.gettempdir(),
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    times: dict[str, float] = {}
    assert proc.stderr is not None
    try:
        for line in proc.stderr:
            for mark in MARKS:
                if line.rstrip().endswith(mark) and mark not in times:
                    times[mark] = time.monotonic() - started
            if len(times) == len(MARKS):
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    return times


SAMPLE = ROOT / "tests" / "speech" / "audio" / "pub_librispeech_session_01.flac"


def first_caption(command: list[str], env: dict[str, str], recording: Path) -> float:
    """Seconds from launch to the first journaled line with words in it."""
    sessions = Path(env["CAPTIONIST_DATA_DIR"]) / "sessions"
    before = set(sessions.glob("*.jsonl")) if sessions.is_dir() else set()
    started = time.monotonic()
    proc = subprocess.Popen(
        [*command, "gui", "--file", str(recording)],
        cwd=tempfile.gettempdir(),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.monotonic() - started < 180:
            if proc.poll() is not None:
                raise SystemExit(f"the app exited ({proc.returncode}) before a caption")
            for journal in set(sessions.glob("*.jsonl")) - before if sessions.is_dir() else ():
                lines = journal.read_text(errors="replace").splitlines()
                if any(segment.text.strip() for segment in decode_lines(lines)):
                    return time.monotonic() - started
            time.sleep(0.05)
        raise SystemExit("no caption within 180 s")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bundle", type=Path, help="a bundle's executable instead of the venv")
    parser.add_argument("--xvfb", action="store_true", help="start under Xvfb (xcb) instead")
    parser.add_argument(
        "--first-caption", nargs="?", const=SAMPLE, type=Path, help="launch -> first caption"
    )
    args = parser.parse_args()
    command = [str(args.bundle.resolve())] if args.bundle else [sys.executable, "-m", "app"]
    data = Path(tempfile.mkdtemp(prefix="captionist-startup-"))
    env = {
        **os.environ,
        "CAPTIONIST_NO_DIALOGS": "1",
        "CAPTIONIST_DATA_DIR": str(data),
        "CAPTIONIST_LOG_DIR": str(data / "logs"),
        "XDG_CONFIG_HOME": str(data / "config"),
        "CAPTIONIST_CACHE_DIR": str(data / "cache"),  # models joined afresh, no CPU figure
        "PYTHONPATH": "" if args.bundle else str(ROOT),
    }
    xvfb = None
    if args.xvfb:
        xvfb = subprocess.Popen(["Xvfb", ":77", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        time.sleep(0.5)
        env.update(DISPLAY=":77", QT_QPA_PLATFORM="xcb")
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    what = args.bundle or "venv (python -m app)"
    print(f"{what}, {env['QT_QPA_PLATFORM']}")
    try:
        if args.first_caption:
            for label in ("fresh profile", "second run"):
                seconds = first_caption(command, env, args.first_caption.resolve())
                print(f"  launch -> first caption journaled, {label}: {seconds:.2f} s")
            return
        for run in range(args.runs):
            cold = run == 0 and drop_caches()
            times = one_start(command, env)
            label = "cold" if cold else "warm"
            shown, ready = (times.get(m, float("nan")) for m in MARKS)
            print(
                f"  run {run + 1} ({label}): window shown {shown:.2f} s, "
                f"ready to caption {ready:.2f} s"
            )
    finally:
        if xvfb is not None:
            xvfb.terminate()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
