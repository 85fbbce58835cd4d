"""What a newcomer's computer may lack, named with the command that fixes it
(app/commands/preflight.py): the display, the sound server, the speech model."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.audio.devices import PactlError
from app.commands.preflight import display_problem, model_problem, sound_server_problem
from app.models.store import ModelStore
from tests.conftest import ROOT


def test_no_display_is_named_with_what_to_do_instead() -> None:
    problem = display_problem({}, "linux")
    assert problem is not None
    assert "No display" in problem.what and "xvfb-run captionist" in problem.fix
    assert "captionist transcribe FILE" in problem.fix


@pytest.mark.parametrize(
    "env",
    [{"DISPLAY": ":0"}, {"WAYLAND_DISPLAY": "wayland-0"}, {"QT_QPA_PLATFORM": "offscreen"}],
)
def test_a_display_or_a_headless_qt_is_no_problem(env: dict[str, str]) -> None:
    assert display_problem(env, "linux") is None


def test_windows_and_macos_always_have_a_display() -> None:
    assert display_problem({}, "win32") is None and display_problem({}, "darwin") is None


def test_the_app_without_a_display_says_so_and_how_to_go_on_instead_of_crashing() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    result = subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "No display" in result.stderr and "xvfb-run captionist" in result.stderr
    assert "Reinstalling" not in result.stderr  # Qt's own advice, which never helps here


def test_a_missing_pactl_is_named_with_the_package_to_install() -> None:
    def missing(*args: str) -> str:
        raise PactlError("pactl was not found: install it with sudo apt install pulseaudio-utils")

    problem = sound_server_problem(missing, "linux")
    assert problem is not None and "sudo apt install pulseaudio-utils" in problem.fix


@pytest.mark.skipif(shutil.which("pactl") is None, reason="pactl is installed by .ci/run")
def test_a_sound_server_that_does_not_answer_is_named_with_how_to_start_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path / 'no-server'}")  # the real pactl
    problem = sound_server_problem(platform="linux")
    assert problem is not None and problem.what.startswith("No sound server answers")
    assert "systemctl --user start pipewire-pulse" in problem.fix
    assert "pulseaudio --start" in problem.fix


def test_a_missing_model_is_named_with_the_command_that_installs_it(tmp_path: Path) -> None:
    def nothing_installed(name: str) -> importlib.metadata.Distribution:
        raise importlib.metadata.PackageNotFoundError(name)

    store = ModelStore(tmp_path, find_distribution=nothing_installed)
    problem = model_problem(store, "tiny.en")
    assert problem is not None and problem.fix == "Install it: `captionist models install tiny.en`"
    assert model_problem(ModelStore(tmp_path / "real"), "tiny.en") is None


@pytest.mark.model
def test_the_selftest_lists_what_this_computer_lacks_without_failing_for_it(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PULSE_SERVER": f"unix:{tmp_path}/x"}
    env.pop("DISPLAY", None)
    result = subprocess.run(
        [sys.executable, "-m", "app", "--selftest"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and result.returncode == 0, report
    if shutil.which("pactl"):
        assert any(p.startswith("No sound server answers") for p in report["problems"])
