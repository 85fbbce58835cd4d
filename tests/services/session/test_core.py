"""The session core on its own: no Qt, a real server (scripted engine) on port 0, real journals
in a temporary folder. What the window shows is the listener's business: here it is a list."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from app.audio.file_source import DecodedAudio
from app.audio.replay import FileReplaySource
from app.domain.transcript import Segment
from app.errors import SessionBusy
from app.server.server import ServerConfig, TranscriptionServer
from app.services.caption_events import CaptionState
from app.services.journal import Journal, read_records
from app.services.library import SessionLibrary
from app.services.session import (
    CurrentSession,
    EngineChoice,
    EngineHost,
    NotNow,
    SessionListener,
    continue_session,
)
from app.services.settings import AppSettings
from tests.fakes import ScriptedEngine
from tests.full_disk import FullDisk

T = TypeVar("T")


def run(job: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(job, 60))


def tone(seconds: float) -> FileReplaySource:
    t = np.arange(int(seconds * 16000)) / 16000
    audio = DecodedAudio((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    return FileReplaySource(Path("talk.wav"), speed=20, audio=audio, label="Speaker 1")


@dataclass
class Heard:
    """A listener that writes down everything."""

    states: list[CaptionState] = field(default_factory=list)
    finals: list[Segment] = field(default_factory=list)
    resets: list[list[Segment]] = field(default_factory=list)
    added: list[list[Segment]] = field(default_factory=list)
    corrected: list[Segment] = field(default_factory=list)
    names: list[dict[str, str]] = field(default_factory=list)
    engines: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def listener(self) -> SessionListener:
        return SessionListener(
            state=lambda state, detail: self.states.append(state),
            final=self.finals.append,
            reset=lambda finals: self.resets.append(list(finals)),
            added=lambda finals: self.added.append(list(finals)),
            corrected=self.corrected.append,
            names=lambda names: self.names.append(dict(names)),
            engine=lambda label, note: self.engines.append(label),
            notice=self.notices.append,
        )


def session_in(tmp_path: Path) -> tuple[CurrentSession, Heard]:
    heard = Heard()
    return CurrentSession(heard.listener(), journal_dir=tmp_path / "sessions"), heard


async def caption(session: CurrentSession, *runs: float) -> None:
    async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="k")) as server:
        session.use_server(server.url, "k", "scripted")
        for seconds in runs:
            await session.run(tone(seconds), AppSettings())


def test_it_waits_for_a_server_then_captions_into_its_journal_and_listener(
    tmp_path: Path,
) -> None:
    session, heard = session_in(tmp_path)
    assert session.state is CaptionState.LOADING  # nothing to caption with yet
    run(caption(session, 2))
    assert heard.engines == ["scripted"]
    assert heard.states[0] is CaptionState.IDLE and heard.states[-1] is CaptionState.IDLE
    assert CaptionState.STREAMING in heard.states
    assert [s.text for s in heard.finals] == ["w0 w1"] == [s.text for s in session.words.finals]
    assert session.journal is not None
    assert [s.text for s in read_records(session.journal.path).segments] == ["w0 w1"]


def test_runs_follow_one_another_on_one_timeline_in_one_journal(tmp_path: Path) -> None:
    session, heard = session_in(tmp_path)
    run(caption(session, 2, 3))
    first, second = heard.finals
    assert second.start >= first.end + 1.0  # a new run goes on after the ones before
    assert session.journal is not None
    assert len(read_records(session.journal.path).segments) == 2
    assert len(list((tmp_path / "sessions").glob("*.jsonl"))) == 1


def test_a_start_while_one_is_under_way_does_nothing(tmp_path: Path) -> None:
    session, heard = session_in(tmp_path)

    async def scenario() -> None:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="k")) as s:
            session.use_server(s.url, "k", "scripted")
            first = asyncio.ensure_future(session.run(tone(4), AppSettings()))
            await asyncio.sleep(0.05)
            assert session.running
            await session.run(tone(2), AppSettings())  # returns at once
            await first

    run(scenario())
    assert [s.text for s in heard.finals] == ["w0 w1 w2 w3"]


def test_renames_and_corrections_are_journaled_told_and_exported(tmp_path: Path) -> None:
    session, heard = session_in(tmp_path)
    run(caption(session, 2))
    (final,) = session.words.finals
    assert session.rename_speaker("Speaker 1", "Alice") == "Alice"
    assert heard.names[-1] == {"Speaker 1": "Alice"}
    with pytest.raises(ValueError):
        session.rename_speaker("Speaker 1", "x" * 500)
    corrected = session.correct(final, "we won")
    assert corrected is not None and corrected.original == "w0 w1"
    assert heard.corrected == [corrected]
    assert session.correct(Segment("never heard", 99, 100, "You"), "no") is None
    assert "Alice: we won" in session.export_text("txt")
    assert session.journal is not None
    run(session.close())
    records = read_records(session.journal.path)
    assert records.names == {"Speaker 1": "Alice"}
    assert [s.text for s in records.segments] == ["we won"]


def test_a_restore_asked_for_while_captioning_comes_after_the_run(tmp_path: Path) -> None:
    saved = Journal.start(tmp_path / "old")
    saved.append(Segment("last week", 0, 1, "Speaker 1", True, True))
    saved.close()
    session, heard = session_in(tmp_path)

    async def scenario() -> None:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="k")) as s:
            session.use_server(s.url, "k", "scripted")
            running = asyncio.ensure_future(session.run(tone(3), AppSettings()))
            await asyncio.sleep(0.05)
            assert session.restore(saved.path) == 0  # not now: the run's times are fixed
            await running

    run(scenario())
    assert "restored when you stop" in heard.notices[0]
    (restored,) = heard.added
    assert [s.text for s in restored] == ["last week"]
    assert restored[0].source == "Speaker 2"  # numbered after this session's voice
    assert restored[0].start > heard.finals[0].end  # after the run on the timeline


def test_continuing_another_session_adopts_its_words_and_refuses_while_captioning(
    tmp_path: Path,
) -> None:
    sessions = tmp_path / "sessions"
    other = Journal.start(sessions)
    other.append(Segment("from monday", 0, 1, "Others", True, True))
    other.submit_rename("Others", "Bob").result()
    other.close()
    session, heard = session_in(tmp_path)
    library = SessionLibrary(sessions)

    async def while_captioning() -> None:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="k")) as s:
            session.use_server(s.url, "k", "scripted")
            running = asyncio.ensure_future(session.run(tone(2), AppSettings()))
            await asyncio.sleep(0.05)
            with pytest.raises(NotNow):
                await continue_session(session, library, other.path.stem)
            await running

    try:
        run(while_captioning())
        earlier = session.journal
        note = run(continue_session(session, library, other.path.stem))
        assert "Continuing" in note
        assert earlier is not None and earlier.closed
        assert session.current_id == other.path.stem
        assert [s.text for s in heard.resets[-1]] == ["from monday"]
        assert heard.names[-1] == {"Others": "Bob"}
        run(caption(session, 2))  # the next Start adds to it, after what it holds
        assert session.journal is not None and session.journal.path == other.path
        texts = [s.text for s in read_records(other.path).segments]
        assert texts == ["from monday", "w0 w1"]
    finally:
        run(session.close())
        library.close()


def test_a_session_another_writer_holds_is_not_continued(tmp_path: Path) -> None:
    sessions = tmp_path / "sessions"
    elsewhere = Journal.start(sessions)  # another window records it
    elsewhere.append(Segment("busy", 0, 1, "You", True, True))
    session, heard = session_in(tmp_path)
    library = SessionLibrary(sessions)
    try:
        with pytest.raises(SessionBusy):
            run(continue_session(session, library, elsewhere.path.stem))
        assert heard.resets == [] and session.journal is None
    finally:
        elsewhere.close()
        library.close()


def test_lines_the_disk_refuses_are_counted_and_saved_once_it_takes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = FullDisk(monkeypatch)
    session, heard = session_in(tmp_path)
    run(caption(session, 2))
    assert [s.text for s in heard.finals] == ["w0 w1"]  # shown all the same
    assert session.unsaved == 1
    assert run(session.retry_save()) is False and session.unsaved == 1
    disk.full = False
    assert run(session.retry_save()) is True and session.unsaved == 0
    assert session.journal is not None
    lines = session.journal.path.read_text().splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["w0 w1"]


@dataclass
class NamedEngine:
    model_name: str
    name: str = "scripted"
    selection_note: str = ""

    async def aclose(self) -> None:
        return None


def test_a_failed_model_load_is_told_and_the_loaded_engine_stays(tmp_path: Path) -> None:
    def load(engine: str, model: str) -> NamedEngine:
        if model == "broken":
            raise FileNotFoundError("no such model")
        return NamedEngine(model)

    def serve(engine: NamedEngine) -> Any:
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def serving() -> Any:
            yield f"ws://127.0.0.1:1/{engine.model_name}", "token"

        return serving()

    heard = Heard()
    host = EngineHost(load, serve)
    session = CurrentSession(heard.listener(), journal_dir=tmp_path, engines=host)
    assert run(session.engine_ready(EngineChoice("whisper", "tiny.en")))
    assert heard.states[:2] == [CaptionState.LOADING, CaptionState.IDLE]
    assert not run(session.engine_ready(EngineChoice("whisper", "broken")))
    assert heard.states[-1] is CaptionState.ERROR
    assert session.server_url == "ws://127.0.0.1:1/tiny.en"  # still the one that loaded
    run(host.aclose())


@dataclass
class LearningEngine(NamedEngine):
    """Auto on tiny.en, whose background probe may find the better model keeps up."""

    reload_due: bool = False


def test_an_engine_that_learned_of_a_better_choice_is_loaded_afresh_at_the_next_start(
    tmp_path: Path,
) -> None:
    loads: list[LearningEngine] = []

    def load(engine: str, model: str) -> LearningEngine:
        loads.append(LearningEngine("tiny.en" if not loads else "base"))
        return loads[-1]

    def serve(engine: LearningEngine) -> Any:
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def serving() -> Any:
            yield f"ws://127.0.0.1:1/{engine.model_name}", "token"

        return serving()

    host = EngineHost(load, serve)
    session = CurrentSession(Heard().listener(), journal_dir=tmp_path, engines=host)
    auto = EngineChoice("whisper", "auto")
    assert run(session.engine_ready(auto)) and run(session.engine_ready(auto))
    assert len(loads) == 1  # the same choice: nothing reloaded
    loads[0].reload_due = True  # the probe, after the first captions: base keeps up here
    assert run(session.engine_ready(auto))
    assert [e.model_name for e in loads] == ["tiny.en", "base"]
    assert session.server_url == "ws://127.0.0.1:1/base"
    run(host.aclose())
