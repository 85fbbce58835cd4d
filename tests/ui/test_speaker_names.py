"""Naming the speakers during a session (offscreen, real server with a diarizing engine
double): the panel, the overlay's next lines, the journal and every export use the name;
a second run numbers its voices after the first's; a restore brings the names back."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from app.audio.file_source import DecodedAudio
from app.audio.replay import FileReplaySource
from app.domain.export import FORMATS
from app.server.server import ServerConfig, TranscriptionServer
from app.services.journal import Journal, read_session
from app.ui.controller import AppController
from app.ui.transcript.model import SegmentRole
from tests.fakes import TalkersEngine
from tests.formats import assert_export_format


def tone(seconds: float) -> DecodedAudio:
    t = np.arange(int(seconds * 16000)) / 16000
    return DecodedAudio((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)


def caption(controller: AppController, qloop: asyncio.AbstractEventLoop, runs: int = 1) -> None:
    async def scenario() -> None:
        async with TranscriptionServer(TalkersEngine(), ServerConfig(port=0, token="k")) as s:
            controller.server_ready(s.url, "k", "talkers")
            for _ in range(runs):
                source = FileReplaySource(Path("call.wav"), speed=20, audio=tone(2), label="Others")
                await controller.run(source)

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))


def rows(controller: AppController) -> list[str]:
    model = controller.model
    return [str(model.data(model.index(row))) for row in range(model.rowCount())]


def rename_selected_row(controller: AppController, row: int, name: str) -> None:
    """As the user does: select a line, press F2 (Rename speaker…), type, OK."""
    view = controller.window.view
    view.setCurrentIndex(view.model().index(row, 0))
    controller.window.rename_action.trigger()
    dialog = controller.naming.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.setTextValue(name)
    dialog.accept()


def test_a_named_speaker_shows_by_name_everywhere_and_the_journal_keeps_it(
    controller: AppController, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    caption(controller, qloop)
    assert [s.source for s in controller.model.segments] == ["Speaker 1", "Speaker 2"]
    rename_selected_row(controller, 1, "  Alice ")
    shown = rows(controller)
    assert "Alice: " in shown[1] and "Speaker 1: " in shown[0]
    assert controller.model.segments[1].source == "Speaker 2"  # the label stays underneath
    assert controller.overlay.names == {"Speaker 2": "Alice"}
    for fmt in FORMATS:
        assert controller.files.export_to(tmp_path / f"t.{fmt}", fmt)
        text = (tmp_path / f"t.{fmt}").read_text(encoding="utf-8")
        assert_export_format(text, fmt, title="Captionist transcript")
        assert "Alice" in text and ("Speaker 2" not in text or fmt == "json"), fmt
    assert "<v Alice>" in (tmp_path / "t.vtt").read_text(encoding="utf-8")
    assert controller.session.journal is not None
    qloop.run_until_complete(controller.session.journal.aclose())
    segments, names = read_session(controller.session.journal.path)
    assert names == {"Speaker 2": "Alice"} and len(segments) == 2
    renames = [
        json.loads(line) for line in controller.session.journal.path.read_text().splitlines()
    ]
    assert {"rename": "Speaker 2", "name": "Alice"} in renames


def test_a_second_run_numbers_its_voices_after_the_first_runs(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    caption(controller, qloop, runs=2)
    labels = [s.source for s in controller.model.segments]
    assert labels == ["Speaker 1", "Speaker 2", "Speaker 3", "Speaker 4"]


def test_a_name_no_format_can_carry_is_refused_and_nothing_changes(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    caption(controller, qloop)
    before = rows(controller)
    rename_selected_row(controller, 0, "x" * 41)
    assert rows(controller) == before and len(controller.session.words.names) == 0
    assert "Not renamed" in controller.window.statusBar().currentMessage()


def test_an_empty_name_shows_the_label_again(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    caption(controller, qloop)
    rename_selected_row(controller, 0, "Bob")
    rename_selected_row(controller, 0, "")
    assert "Speaker 1: " in rows(controller)[0]
    assert controller.session.journal is not None
    qloop.run_until_complete(controller.session.journal.aclose())
    assert read_session(controller.session.journal.path)[1] == {}


def test_a_restored_session_brings_its_names_numbered_after_this_sessions_voices(
    controller: AppController, qloop: asyncio.AbstractEventLoop, tmp_path: Path, qapp: QApplication
) -> None:
    caption(controller, qloop)
    rename_selected_row(controller, 0, "Alice")
    assert controller.session.journal is not None
    saved = controller.session.journal.path
    qloop.run_until_complete(controller.session.journal.aclose())
    controller.session.adopt(Journal.start(tmp_path / "new"), [], {})  # as a new session
    caption(controller, qloop)  # this session's own Speaker 1 and 2 (a new journal)
    assert controller.session.restore(saved) == 2
    restored = [controller.model.data(controller.model.index(r), SegmentRole) for r in (2, 3)]
    assert [s.source for s in restored] == ["Speaker 3", "Speaker 4"]
    assert "Alice: " in rows(controller)[2] and "Speaker 1: " in rows(controller)[0]


def test_a_gap_marker_has_no_speaker_to_rename(controller: AppController) -> None:
    from app.domain.transcript import gap_segment

    controller.session.add_final(gap_segment(0.0, 2.0))
    view = controller.window.view
    view.setCurrentIndex(view.model().index(0, 0))
    controller.window.rename_action.trigger()
    assert controller.naming.dialog is None


@pytest.mark.parametrize("label", ["Others", "You"])
def test_the_channels_can_be_named_too(controller: AppController, label: str) -> None:
    assert controller.naming.rename(label, "Sam")
    assert controller.model.shown(label) == "Sam"
