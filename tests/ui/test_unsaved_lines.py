"""Lines the disk refused live only in memory: Quit and Continue ask before dropping them
(Export… / Keep trying / Discard N lines), and nothing is dropped without that answer.
Before: Quit finished and logged "N segments were never saved"; Continue cleared them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from app.audio.file_source import DecodedAudio
from app.audio.replay import FileReplaySource
from app.server.server import ServerConfig, TranscriptionServer
from app.services.journal import Journal, crashed_sessions, read_journal
from app.ui.controller import AppController
from tests.fakes import ScriptedEngine
from tests.full_disk import FullDisk
from tests.waiting import until


def tone(seconds: float) -> DecodedAudio:
    t = np.arange(int(seconds * 16000)) / 16000
    return DecodedAudio((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)


def caption_on_a_full_disk(
    controller: AppController, qloop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> FullDisk:
    """One run whose final the disk refuses: it is shown, and unsaved."""
    disk = FullDisk(monkeypatch)

    async def scenario() -> None:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="k")) as s:
            controller.server_ready(s.url, "k", "scripted")
            await controller.run(FileReplaySource(Path("talk.wav"), speed=10, audio=tone(2)))

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert [seg.text for seg in controller.model.segments] == ["w0 w1"]
    assert controller.session.unsaved == 1
    return disk


def answer(
    controller: AppController, qloop: asyncio.AbstractEventLoop, button_text: str
) -> QMessageBox:
    box = qloop.run_until_complete(until(lambda: controller.files.unsaved_box, 10, "the question"))
    (button,) = [b for b in box.buttons() if b.text().startswith(button_text)]
    button.click()
    return box


def quit_started(controller: AppController) -> list[bool]:
    finished: list[bool] = []
    controller.quit_finished.connect(lambda: finished.append(True))
    controller.quit()
    return finished


def test_quit_asks_and_keep_trying_keeps_the_app_and_the_lines(
    controller: AppController, qloop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    caption_on_a_full_disk(controller, qloop, monkeypatch)
    finished = quit_started(controller)
    box = answer(controller, qloop, "Keep trying")
    assert "1 line of this session could not be saved" in box.text()
    assert [b.text() for b in box.buttons()] == ["Export…", "Keep trying", "Discard 1 line"]
    qloop.run_until_complete(until(lambda: controller.files.unsaved_box is None, 5, "answered"))
    qloop.run_until_complete(asyncio.sleep(0.2))
    assert not finished  # the app stays, and so do the lines
    assert controller.session.journal is not None and not controller.session.journal.closed
    assert controller.session.unsaved == 1
    assert "still unsaved" in controller.window.statusBar().currentMessage()
    # Quit again, and let them go: now, and only now, it quits (the session stays marked
    # open, so the next start offers back what was saved).
    finished = quit_started(controller)
    answer(controller, qloop, "Discard")
    qloop.run_until_complete(until(lambda: finished, 10, "quit_finished"))
    journal = controller.session.journal
    assert journal.closed and crashed_sessions(journal.path.parent) == [journal.path]


def test_keep_trying_saves_them_once_the_disk_has_room_and_quits(
    controller: AppController, qloop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = caption_on_a_full_disk(controller, qloop, monkeypatch)
    finished = quit_started(controller)
    disk.full = False  # the user made room, then pressed Keep trying
    answer(controller, qloop, "Keep trying")
    qloop.run_until_complete(until(lambda: finished, 10, "quit_finished"))
    assert controller.session.journal is not None
    assert [s.text for s in read_journal(controller.session.journal.path)] == ["w0 w1"]


def test_export_from_the_question_writes_them_elsewhere_then_quits(
    controller: AppController,
    qloop: asyncio.AbstractEventLoop,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    caption_on_a_full_disk(controller, qloop, monkeypatch)
    target = tmp_path / "usb" / "kept.txt"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(target), "TXT (*.txt)"))
    finished = quit_started(controller)
    answer(controller, qloop, "Export")
    qloop.run_until_complete(until(lambda: finished, 10, "quit_finished"))
    assert "w0 w1" in target.read_text()


def test_continuing_another_session_asks_first_and_keep_trying_stays(
    controller: AppController,
    qloop: asyncio.AbstractEventLoop,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    caption_on_a_full_disk(controller, qloop, monkeypatch)
    assert controller.session.journal is not None
    current = controller.session.journal.path
    monkeypatch.undo()  # the other session is written on a disk with room
    other = Journal.start(tmp_path / "sessions")
    other.close()
    FullDisk(monkeypatch)  # and this session's disk is still full
    continuing = controller.spawn(controller.library.continue_session(other.path.stem))
    answer(controller, qloop, "Keep trying")
    assert qloop.run_until_complete(continuing) is False
    assert controller.session.journal.path == current  # still the current session
    assert [s.text for s in controller.model.segments] == ["w0 w1"]
    continuing = controller.spawn(controller.library.continue_session(other.path.stem))
    answer(controller, qloop, "Discard")
    assert qloop.run_until_complete(continuing) is True
    assert controller.session.journal.path == other.path
    assert controller.model.rowCount() == 0
