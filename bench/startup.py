"""Start-up time of the desktop app: to the window shown, and to ready to caption.

    python bench/startup.py [--runs 3] [--bundle dist/captionist/captionist] [--xvfb]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bundle", type=Path, help="a bundle's executable instead of the venv")
    parser.add_argument("--xvfb", action="store_true", help="start under Xvfb (xcb) instead")
    args = parser.parse_args()
    command = [str(args.bundle.resolve())] if args.bundle else [sys.executable, "-m", "app"]
    data = Path(tempfile.mkdtemp(prefix="captionist-startup-"))
    env = {
        **os.environ,
        "CAPTIONIST_NO_DIALOGS": "1",
        "CAPTIONIST_DATA_DIR": str(data),
        "CAPTIONIST_LOG_DIR": str(data / "logs"),
        "XDG_CONFIG_HOME": str(data / "config"),
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
