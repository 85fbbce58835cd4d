"""Xvfb on a free display number, and readiness checks for what runs on it."""

from __future__ import annotations

import os
import subprocess


def start_xvfb(screen: str) -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb picks a free display number itself (-displayfd): parallel runs do not collide."""
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()  # written once the server accepts connections
    if not number:
        xvfb.wait(timeout=10)
        raise RuntimeError(f"Xvfb did not start (exit code {xvfb.returncode})")
    return xvfb, f":{number}"


def window_manager_ready(display: str) -> bool:
    """An EWMH window manager (openbox) has set its check window on the root."""
    found = subprocess.run(
        ["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=10,
    )
    return "window id" in found.stdout


def compositor_ready(display: str) -> bool:
    """xcompmgr creates a window named after itself when it claims the compositing selection."""
    found = subprocess.run(
        ["xdotool", "search", "--name", "^xcompmgr$"],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=10,
    )
    return bool(found.stdout.split())
