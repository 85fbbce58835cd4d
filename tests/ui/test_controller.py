"""The controller offscreen with a real server (scripted engine): captioning a file into the
panel, overlay and journal; export and its failure; restoring a crashed session; quitting."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_API", "pyside6")

from app.audio.file_source import DecodedAudio
from app.audio.replay import FileReplaySource
from app.domain.transcript import Segment, join_utterances
from app.protocol.messages import PROVIDER_FAILBACK, PROVIDER_FAILOVER, provider_switch
from app.server.server import ServerConfig, TranscriptionServer
from app.services.caption_events import CaptionState
from app.services.journal import Journal, crashed_sessions, marker_of, read_journal
from app.ui.controller import AppController
from tests.fakes import ScriptedEngine
from tests.formats import assert_export_format
from tests.full_disk import FullDisk
from tests.waiting import until


def tone(seconds: float) -> DecodedAudio:
    t = np.arange(int(seconds * 16000)) / 16000
    return DecodedAudio((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)


def test_captioning_a_file_fills_panel_overlay_and_journal(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    async def scenario() -> None:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="k")) as s:
            controller.server_ready(s.url, "k", "scripted")
            assert controller.window.start_action.isEnabled()
            await controller.run(FileReplaySource(Path("talk.wav"), speed=10, audio=tone(4)))

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert controller.model.rowCount() == 1
    assert controller.model.segments[0].text == "w0 w1 w2 w3"
    assert [t.text for t in controller.overlay.tokens()] == ["w0", "w1", "w2", "w3"]
    assert controller.session.journal is not None
    lines = controller.session.journal.path.read_text().splitlines()
    assert json.loads(lines[0])["text"] == "w0 w1 w2 w3"
    assert controller.window.state_label.text() == "Ready"


def test_export_writes_every_format_and_a_full_disk_is_reported(
    controller: AppController, tmp_path: Path
) -> None:
    controller.session.add_final(Segment("Hello there.", 0, 1, "You", True, True))
    for fmt in ("txt", "srt", "vtt", "json", "md"):
        assert controller.files.export_to(tmp_path / f"t.{fmt}", fmt)
        texts = assert_export_format(tmp_path / f"t.{fmt}", fmt, title="Captionist transcript")
        assert len(texts) == 1 and "Hello there." in texts[0], fmt
    assert controller.store.load_app().export_format == "md"
    if Path("/dev/full").exists():
        assert not controller.files.export_to(Path("/dev/full"), "txt")
        assert "No space left" in controller.files.last_error
    assert not controller.files.export_to(tmp_path / "missing-dir" / "t.txt", "txt")
    assert controller.model.rowCount() == 1  # nothing lost


def crashed_journal(directory: Path) -> Path:
    """A session the app was killed in: marked open, its lock gone with its process."""
    journal = Journal.start(directory)
    journal.append(Segment("before", 0, 1, "Others", True, False))
    journal.append(Segment("the crash", 1, 2, "Others", True, True))
    journal.close()  # the lock goes as a killed process's does...
    marker_of(journal.path).touch()  # ...and the marker stays
    return journal.path


def test_a_crashed_session_is_offered_back(
    controller: AppController, tmp_path: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    crashed_journal(tmp_path / "sessions")
    (crashed,) = crashed_sessions(tmp_path / "sessions")
    controller.files.offer_restore(crashed)
    assert crashed_sessions(tmp_path / "sessions") == []  # asked once
    controller.files.restore_box.accept()
    assert [s.text for s in controller.model.segments] == ["before the crash"]


def test_quit_closes_the_journal_and_reports_done(
    controller: AppController, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    controller.session.journal = Journal.start(tmp_path / "sessions")
    finished: list[bool] = []
    controller.quit_finished.connect(lambda: finished.append(True))
    controller.quit()
    qloop.run_until_complete(until(lambda: finished, 10, "quit_finished"))
    assert finished == [True] and controller.session.journal.closed
    assert crashed_sessions(tmp_path / "sessions") == []


def test_a_server_restart_shows_reconnecting_and_loses_nothing(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    from app.client.lifecycle import LinkConfig
    from tests.client.test_lifecycle import free_port
    from tests.fakes import ClockEngine

    seen: list[CaptionState] = []
    controller.bridge.state_changed.connect(lambda state, detail: seen.append(state))
    port = free_port()

    async def scenario() -> None:
        engine = ClockEngine()
        server = TranscriptionServer(engine, ServerConfig(port=port))
        await server.start()
        controller.server_ready(f"ws://127.0.0.1:{port}/ws/transcribe", "", "clock")
        run = asyncio.ensure_future(
            controller.run(FileReplaySource(Path("talk.wav"), speed=2, audio=tone(6)))
        )
        await until(lambda: controller.model.segments, 20, "a first caption")
        await server.close()  # the server goes away mid-meeting...
        label = controller.window.state_label
        await until(lambda: "Reconnecting" in label.text(), 10, "Reconnecting shown")
        server = TranscriptionServer(engine, ServerConfig(port=port))
        await server.start()  # ...and comes back
        await run
        await server.close()

    controller.session.link = LinkConfig(backoff_initial_s=0.05, backoff_cap_s=0.2)
    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert CaptionState.RECONNECTING in seen and seen[-1] is CaptionState.IDLE
    words = " ".join(s.text for s in controller.model.segments).split()
    assert words == [f"s{k}" for k in range(6)]


def test_a_provider_switch_shows_the_live_engine(controller: AppController) -> None:
    controller.server_ready("ws://127.0.0.1:1/ws/transcribe", "k", "deepgram+whisper")
    controller.bridge.warning.emit(
        provider_switch(PROVIDER_FAILOVER, "whisper tiny.en (local)", "PROVIDER_STALLED: no reply")
    )
    assert controller.window.engine_label.text() == "whisper tiny.en (local)"
    assert "PROVIDER_STALLED" in controller.window.statusBar().currentMessage()
    controller.bridge.warning.emit(provider_switch(PROVIDER_FAILBACK, "deepgram nova-2", "back"))
    assert controller.window.engine_label.text() == "deepgram nova-2"


def test_a_full_disk_keeps_captioning_says_so_until_autosave_works_again(
    controller: AppController, qloop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = FullDisk(monkeypatch)

    async def caption(seconds: float) -> None:
        source = FileReplaySource(Path("talk.wav"), speed=10, audio=tone(seconds))
        await controller.run(source)

    async def scenario() -> None:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="k")) as s:
            controller.server_ready(s.url, "k", "scripted")
            await caption(2)
            # The final reached the panel; the problem shows and stays; Start works again.
            assert [seg.text for seg in controller.model.segments] == ["w0 w1"]
            assert controller.window.autosave_label.isVisibleTo(controller.window)
            assert "Autosave failed: No space left" in controller.window.autosave_label.text()
            assert controller.window.state_label.text() == "Ready"
            disk.full = False
            await caption(3)

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert [seg.text for seg in controller.model.segments] == ["w0 w1", "w0 w1 w2"]
    assert not controller.window.autosave_label.isVisibleTo(controller.window)
    assert controller.session.journal is not None
    lines = controller.session.journal.path.read_text().splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["w0 w1", "w0 w1 w2"]  # in order


def test_stop_then_start_goes_on_after_the_first_run_in_one_timeline(
    controller: AppController, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """Issue 12: the second run's times restarted at 0 in the same journal, so SRT/VTT cues
    ran backwards."""

    async def scenario() -> None:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="k")) as s:
            controller.server_ready(s.url, "k", "scripted")
            for seconds in (3, 2):
                source = FileReplaySource(Path("talk.wav"), speed=10, audio=tone(seconds))
                await controller.run(source)

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    first, second = controller.model.segments
    assert second.start >= first.end
    assert controller.session.journal is not None
    restored = [
        json.loads(line)["start"]
        for line in controller.session.journal.path.read_text().splitlines()
    ]
    assert restored == sorted(restored)
    for fmt in ("srt", "vtt"):
        assert controller.files.export_to(tmp_path / f"t.{fmt}", fmt)
        assert len(assert_export_format(tmp_path / f"t.{fmt}", fmt)) == 2


def test_restoring_a_session_twice_or_the_current_one_adds_nothing_twice(
    controller: AppController, tmp_path: Path
) -> None:
    """Issue 12: "Restore last session" appended the same segments again at each click."""
    crashed = crashed_journal(tmp_path / "sessions")
    assert controller.session.restore(crashed) == 1
    assert crashed not in crashed_sessions(tmp_path / "sessions")  # not offered again
    assert controller.session.restore(crashed) == 0
    assert [s.text for s in controller.model.segments] == ["before the crash"]
    assert controller.session.journal is not None  # the restored lines went into this session's
    assert controller.session.restore(controller.session.journal.path) == 0
    controller.session.restore_last()  # the newest journal is this session's own
    assert [s.text for s in controller.model.segments] == ["before the crash"]
    assert [s.text for s in read_journal(controller.session.journal.path)] == [
        "before",
        "the crash",
    ]


def test_a_restored_session_is_journaled_between_the_runs_around_it_and_survives_a_crash(
    controller: AppController, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """Issue 12: restored segments were not written to the new session's journal, so a second
    crash lost them; and they kept their old times, before what was captured after."""
    crashed = crashed_journal(tmp_path / "sessions")

    async def scenario() -> None:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="k")) as s:
            controller.server_ready(s.url, "k", "scripted")
            await controller.run(FileReplaySource(Path("a.wav"), speed=10, audio=tone(3)))
            assert controller.session.restore(crashed) == 1
            await controller.run(FileReplaySource(Path("b.wav"), speed=10, audio=tone(2)))

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    shown = controller.model.segments
    assert [s.text for s in shown] == ["w0 w1 w2", "before the crash", "w0 w1"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(shown)), shown
    # The app is killed now: the session's journal is offered back with all of it, in order.
    journal = controller.session.journal
    assert journal is not None and marker_of(journal.path).exists()
    assert crashed_sessions(tmp_path / "sessions") == []  # not while it is being written
    assert join_utterances(read_journal(controller.session.journal.path)) == shown
    for fmt in ("srt", "vtt"):
        assert controller.files.export_to(tmp_path / f"t.{fmt}", fmt)
        assert len(assert_export_format(tmp_path / f"t.{fmt}", fmt)) == 3


def test_a_restore_asked_for_while_captioning_comes_after_the_run(
    controller: AppController, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """The running capture's times are fixed: restored lines in the middle of it would put
    its later captions before them."""
    crashed = crashed_journal(tmp_path / "sessions")

    async def scenario() -> None:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="k")) as s:
            controller.server_ready(s.url, "k", "scripted")
            source = FileReplaySource(Path("a.wav"), speed=4, audio=tone(3))
            run = asyncio.ensure_future(controller.run(source))
            await until(lambda: source.position_s > 0.5, 20, "captioning under way")
            controller.session.restore(crashed)
            assert controller.model.segments == []  # not in the middle of the run
            await run

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    shown = controller.model.segments
    assert [s.text for s in shown] == ["w0 w1 w2", "before the crash"]
    assert shown[0].end <= shown[1].start
    assert controller.session.journal is not None
    assert join_utterances(read_journal(controller.session.journal.path)) == shown


def test_restore_last_session_brings_back_the_one_before_this_session(
    controller: AppController, tmp_path: Path
) -> None:
    """With a session under way, the newest journal is its own: the menu did nothing."""
    earlier = Journal.start(tmp_path / "sessions")
    earlier.append(Segment("last week", 0, 1, "You", True, True))
    earlier.close()
    current = Journal.start(tmp_path / "sessions")
    current.append(Segment("today", 0, 1, "You", True, True))
    controller.session.journal = current
    for final in read_journal(current.path):
        controller.session.add_final(final)
    controller.session.restore_last()
    assert [s.text for s in controller.model.segments] == ["today", "last week"]
