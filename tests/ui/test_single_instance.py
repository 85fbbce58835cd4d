"""One app at a time: a second launch brings the running window forward and exits 0."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.services.settings import AppSettings
from app.ui.settings_store import SettingsStore
from app.ui.single_instance import SingleInstance, bring_forward, instance_name
from tests.conftest import ROOT, TIMEOUT_FACTOR
from tests.waiting import wait_until


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder with a short path: a Unix socket's path has room for about 100 bytes."""
    with tempfile.TemporaryDirectory(prefix="cap-") as folder:
        yield Path(folder)


def test_a_second_instance_is_told_no_and_the_first_is_asked_to_come_forward(
    qtbot: QtBot,
    short_dir: Path,
) -> None:
    name = str(short_dir / "instance")
    first = SingleInstance(name)
    assert first.claim()
    asked: list[str] = []
    first.raise_requested.connect(asked.append)
    # The first cannot answer while the second waits in this same thread: a short wait.
    second = SingleInstance(name, answer_wait_ms=50)
    assert not second.claim(Path("/recordings/call.wav"))
    qtbot.waitUntil(lambda: asked == ["/recordings/call.wav"], timeout=5000)
    third = SingleInstance(name, answer_wait_ms=50)
    assert not third.claim()
    qtbot.waitUntil(lambda: asked == ["/recordings/call.wav", ""], timeout=5000)
    first.close()
    assert SingleInstance(name).claim()  # gone with the first: the next launch is first


@pytest.mark.skipif(sys.platform == "win32", reason="a named pipe leaves no file behind")
def test_a_socket_a_crash_left_behind_is_reclaimed(qtbot: QtBot, short_dir: Path) -> None:
    path = short_dir / "instance"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.listen()
    stale.close()  # the file stays, nobody listens: as after a crash
    assert path.exists()
    first = SingleInstance(str(path))
    assert first.claim()
    asked: list[str] = []
    first.raise_requested.connect(asked.append)
    assert not SingleInstance(str(path), answer_wait_ms=50).claim()
    qtbot.waitUntil(lambda: asked == [""], timeout=5000)
    first.close()


def test_the_name_is_per_data_folder_and_fits_a_socket_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CAPTIONIST_DATA_DIR", str(tmp_path / "one"))
    one = instance_name()
    assert instance_name() == one
    monkeypatch.setenv("CAPTIONIST_DATA_DIR", str(tmp_path / "two"))
    two = instance_name()
    assert two != one
    monkeypatch.delenv("CAPTIONIST_DATA_DIR")
    assert instance_name() not in (one, two)
    assert len(os.fsencode(one)) < 100


def test_bring_forward_shows_unminimises_and_raises_the_window(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    window.showMinimized()
    bring_forward(window)
    assert window.isVisible() and not window.isMinimized()
    window.hide()  # closed to the tray
    bring_forward(window)
    assert window.isVisible()
    assert not window.windowState() & Qt.WindowState.WindowMinimized


def _log_has(path: Path, text: str) -> bool:
    return path.is_file() and text in path.read_text(errors="replace")


@pytest.mark.e2e
def test_a_second_launch_brings_the_first_forward_and_exits_0(
    tmp_path: Path, short_dir: Path
) -> None:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(short_dir),  # where the socket is
        "CAPTIONIST_DATA_DIR": str(tmp_path / "data"),
        "CAPTIONIST_LOG_DIR": str(tmp_path / "logs"),
        "CAPTIONIST_NO_DIALOGS": "1",
        "QT_QPA_PLATFORM": "offscreen",
    }
    # tiny.en, from its installed package: "auto" would first time the CPU for a minute.
    conf = QSettings(
        str(home / ".config" / "captionist" / "captionist.conf"), QSettings.Format.IniFormat
    )
    SettingsStore(conf).save_app(AppSettings(model="tiny.en"))
    command = [sys.executable, "-m", "app", "--log-level", "INFO", "gui"]
    first_log = tmp_path / "first.log"
    with first_log.open("w") as stderr:  # a file: nobody reads a pipe while the app runs
        first = subprocess.Popen(command, cwd=ROOT, env=env, stderr=stderr)
    try:
        wait_until(lambda: _log_has(first_log, "window shown"), 60, "the first window", 0.1)
        started = time.monotonic()
        second = subprocess.run(
            [*command, "--file", str(tmp_path / "call.wav")],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=30 * TIMEOUT_FACTOR,
        )
        took = time.monotonic() - started
        assert second.returncode == 0, second.stderr
        assert took < 10 * TIMEOUT_FACTOR
        assert "window shown" not in second.stderr  # no second window, no second session
        assert "already running" in second.stderr
        wait_until(lambda: _log_has(first_log, "window raised"), 10, "the window to come forward")
        assert f"come forward (with {tmp_path / 'call.wav'})" in first_log.read_text()
        assert first.poll() is None
        assert list(short_dir.glob("captionist-*")), "the socket is in XDG_RUNTIME_DIR"
        wait_until(lambda: _log_has(first_log, "ready to caption"), 120, "the model", 0.2)
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60 * TIMEOUT_FACTOR) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
