"""A fresh X server per test session: Xvfb + openbox (stay-on-top) + xcompmgr (translucency)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    missing = [
        tool
        for tool in ("Xvfb", "openbox", "xcompmgr", "xdotool", "import")
        if shutil.which(tool) is None
    ]
    if missing:
        pytest.fail(f"missing X11 test tools: {missing} (see .ci/run)")
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    name = f":{number}"
    env = {**os.environ, "DISPLAY": name}
    helpers = [
        subprocess.Popen(
            [tool, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for tool, args in (("openbox", []), ("xcompmgr", ["-n"]))
    ]
    time.sleep(0.8)
    yield name
    for process in [*helpers, xvfb]:
        process.terminate()
        process.wait(timeout=10)
