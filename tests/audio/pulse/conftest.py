"""PulseAudio virtual devices for the whole session (tools/virtual-audio.sh)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "tools" / "virtual-audio.sh"


@pytest.fixture(scope="session")
def virtual_audio() -> Iterator[str]:
    if not SCRIPT.is_file():
        pytest.fail(f"{SCRIPT} not found")
    env = {**os.environ, "VA_DIR": "/tmp/captionist-virtual-audio"}
    started = subprocess.run(
        ["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 0, started.stderr
    server = next(
        line.split("=", 1)[1]
        for line in started.stdout.splitlines()
        if line.startswith("PULSE_SERVER=")
    )
    # PortAudio reads the sound server when sounddevice is first imported: set it now.
    os.environ["PULSE_SERVER"] = server
    os.environ["VA_DIR"] = env["VA_DIR"]
    yield server
    subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=60)
