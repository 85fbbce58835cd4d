"""A fresh X server per test session: Xvfb + openbox (stay-on-top) + xcompmgr (translucency)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.waiting import wait_until
from tests.xserver import compositor_ready, start_xvfb, window_manager_ready


@pytest.fixture(scope="session")
def display() -> Iterator[str]:
    missing = [
        tool
        for tool in ("Xvfb", "openbox", "xcompmgr", "xdotool", "xprop", "import")
        if shutil.which(tool) is None
    ]
    if missing:
        pytest.fail(f"missing X11 test tools: {missing} (see .ci/run)")
    xvfb, name = start_xvfb("1280x720x24")
    env = {**os.environ, "DISPLAY": name}
    helpers = [
        subprocess.Popen(
            [tool, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for tool, args in (("openbox", []), ("xcompmgr", ["-n"]))
    ]
    wait_until(lambda: window_manager_ready(name), 20, "openbox to manage the screen", 0.1)
    wait_until(lambda: compositor_ready(name), 20, "xcompmgr to start compositing", 0.1)
    yield name
    for process in [*helpers, xvfb]:
        process.terminate()
        process.wait(timeout=10)
