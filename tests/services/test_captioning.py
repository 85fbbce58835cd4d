"""CaptionService and the journal, without Qt: a file replayed into a real server."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import socket
from pathlib import Path

import numpy as np
import pytest

from app.audio.file_source import DecodedAudio
from app.audio.replay import FileReplaySource
from app.client.lifecycle import LinkConfig
from app.domain.transcript import Segment
from app.errors import AutosaveError, ServerUnavailable
from app.server.server import ServerConfig, TranscriptionServer
from app.services.caption_events import CaptionListener, CaptionState
from app.services.captioning import CaptionService
from app.services.journal import Journal, crashed_sessions, latest_session, read_journal
from tests.conftest import run
from tests.fake_sources import StallingQueueSource
from tests.fakes import LevelWordsEngine, ScriptedEngine, TalkersEngine, level_audio
from tests.waiting import until


def tone(seconds: float, rate: int = 16000) -> DecodedAudio:
    t = np.arange(int(seconds * rate)) / rate
    return DecodedAudio((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)


def test_journal_is_durable_line_by_line_and_survives_a_torn_line(tmp_path: Path) -> None:
    journal = Journal.start(tmp_path)
    journal.append(Segment("hello there", 1.0, 2.0, "You"))
    journal.append(Segment("general kenobi", 2.5, 3.0, "Others"))
    with journal.path.open("a") as handle:
        handle.write('{"text": "torn')  # killed mid-write
    lines = journal.path.read_text().splitlines()
    assert json.loads(lines[0]) == {
        "text": "hello there",
        "start": 1.0,
        "end": 2.0,
        "source": "You",
        "is_final": True,
        "speech_final": False,
    }
    assert [s.text for s in read_journal(journal.path)] == ["hello there", "general kenobi"]
    assert latest_session(tmp_path) == journal.path
    # Still open: a crash would leave it marked, but its writer's lock says it runs.
    assert journal.path.with_name(journal.path.name + ".open").exists()
    assert crashed_sessions(tmp_path) == []
    journal.close()
    assert crashed_sessions(tmp_path) == []
    assert not journal.path.with_name(journal.path.name + ".open").exists()
    assert Journal.start(tmp_path).path != journal.path


def test_every_append_is_fsynced_once_on_the_journal_file_after_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flush only reaches the OS cache: without fsync a power cut can lose finals the user saw
    (a SIGKILL cannot, so only this test notices a missing fsync)."""
    synced: list[tuple[int, int]] = []  # (inode, size) of the file each fsync was given
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        stat = os.fstat(fd)
        synced.append((stat.st_ino, stat.st_size))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    journal = Journal.start(tmp_path)
    inode = journal.path.stat().st_ino
    expected: list[tuple[int, int]] = []
    for k in range(3):
        journal.append(Segment(f"words {k}", k, k + 0.5, "You"))
        # Once per append, on the journal, with the new line already written to it.
        expected.append((inode, journal.path.stat().st_size))
        assert synced == expected
    journal.close()


def test_a_line_the_disk_refuses_is_kept_never_torn_and_written_when_space_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal.start(tmp_path)
    journal.append(Segment("saved", 0, 1, "You"))
    real_write = os.write
    full = True

    def write(fd: int, data: bytes) -> int:
        if full and fd != 1 and fd != 2:
            if len(data) > 8:
                return real_write(fd, bytes(data[:8]))  # the disk takes a little, then fills
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    for text in ("refused", "refused too"):
        with pytest.raises(AutosaveError, match="No space left"):
            journal.append(Segment(text, 1, 2, "You"))
    assert journal.unsaved == 2
    assert [s.text for s in read_journal(journal.path)] == ["saved"]
    assert journal.path.read_text().endswith("}\n"), "a torn line is left in the file"
    full = False
    journal.append(Segment("after", 2, 3, "You"))
    assert journal.unsaved == 0
    assert [s.text for s in read_journal(journal.path)] == [
        "saved", "refused", "refused too", "after"
    ]  # fmt: skip
    journal.close()


def test_service_captions_a_source_into_transcript_and_journal(tmp_path: Path) -> None:
    states: list[CaptionState] = []
    interims: list[str] = []

    async def scenario() -> CaptionService:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0, token="t")) as server:
            journal = Journal.start(tmp_path)
            service = CaptionService(
                server.url,
                token="t",
                journal=journal,
                listener=CaptionListener(
                    state=lambda s, d: states.append(s),
                    interim=lambda seg: interims.append(seg.text),
                ),
            )
            source = FileReplaySource(Path("tone.wav"), speed=20.0, audio=tone(3.0), label="Others")
            await service.run(source)
            journal.close()
            return service

    service = run(scenario())
    assert service.transcript.text == "w0 w1 w2"
    assert [s.source for s in service.transcript.finals] == ["Others"]
    assert read_journal(service.journal.path)[0].text == "w0 w1 w2"  # type: ignore[union-attr]
    assert states[0] is CaptionState.CONNECTING and states[-1] is CaptionState.IDLE
    assert CaptionState.STOPPING in states and interims
    assert service.figures.audio_sent_s == pytest.approx(3.0)


def test_stop_mid_stream_still_settles_what_was_heard(tmp_path: Path) -> None:
    engine = ScriptedEngine()  # one word per whole second heard, in a final at the end

    async def scenario() -> CaptionService:
        async with TranscriptionServer(engine, ServerConfig(port=0)) as server:
            service = CaptionService(server.url)
            source = FileReplaySource(Path("tone.wav"), speed=4.0, audio=tone(20.0))
            task = asyncio.create_task(service.run(source))
            await until(
                lambda: engine.sessions and engine.sessions[0].seconds >= 2.0,
                30,
                "the server to hear 2 s of audio",
            )
            service.request_stop()
            await task
            return service

    service = run(scenario())
    (session,) = engine.sessions
    assert session.seconds >= 2.0
    assert session.seconds == pytest.approx(service.figures.audio_sent_s)  # nothing left unsent
    assert service.figures.audio_sent_s < 20.0  # stopped before the source ran out
    heard = " ".join(f"w{i}" for i in range(int(session.seconds)))
    assert service.transcript.text == heard and service.state is CaptionState.IDLE


def test_dead_server_is_retried_then_an_error_state_not_a_hang() -> None:
    states: list[tuple[CaptionState, str]] = []
    service = CaptionService(
        "ws://127.0.0.1:9/ws/transcribe",
        listener=CaptionListener(state=lambda s, d: states.append((s, d))),
        link=LinkConfig(backoff_initial_s=0.05, backoff_cap_s=0.1, give_up_after_s=0.5),
    )
    with pytest.raises(ServerUnavailable):
        run(service.run(FileReplaySource(Path("x.wav"), audio=tone(1.0))))
    retries = [d for s, d in states if s is CaptionState.CONNECTING and "retrying in" in d]
    assert len(retries) >= 2
    assert states[-1][0] is CaptionState.ERROR and "cannot reach" in states[-1][1]


def test_audio_lost_while_the_server_is_down_becomes_a_gap_marker(tmp_path: Path) -> None:
    """A 1 s ring and a server that comes up only after it overflowed by 1 s of a live source:
    the transcript and the journal say how much audio was not captioned, and captioning goes
    on."""
    finals: list[Segment] = []

    async def scenario() -> CaptionService:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        journal = Journal.start(tmp_path)
        service = CaptionService(
            f"ws://127.0.0.1:{port}/ws/transcribe",
            journal=journal,
            listener=CaptionListener(final=finals.append),
            link=LinkConfig(ring_s=1.0, backoff_initial_s=0.05, backoff_cap_s=0.1),
        )
        running = asyncio.create_task(service.run(FileReplaySource(Path("x"), audio=tone(5.0))))
        # The server comes up once the full ring has dropped a second of audio.
        await until(lambda: service.stream and service.stream.lost_s >= 1.0, 10, "1 s lost")
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=port)):
            await running
        journal.close()
        return service

    service = run(scenario())
    gaps = [s for s in finals if s.gap_s]
    assert len(gaps) == 1 and gaps[0].start == 0.0
    assert 1.0 <= gaps[0].gap_s <= 2.5 and "not captioned" in gaps[0].text
    assert service.figures.lost_s == gaps[0].gap_s
    journaled = read_journal(latest_session(tmp_path) or Path())
    assert any(s.gap_s == gaps[0].gap_s for s in journaled)
    assert any(s.text and not s.gap_s for s in finals)  # the rest was captioned


@pytest.mark.parametrize("chunk_s", [None, 0.3], ids=["queue-blocks", "blocks-cut-across"])
def test_audio_a_full_capture_queue_drops_is_a_gap_where_it_was_captured(
    tmp_path: Path, chunk_s: float | None
) -> None:
    """The consumer of a 4-block capture queue stalls from 2.0 s while 1.4 s more is captured:
    the oldest 1.0 s (the word w3) is dropped. The transcript, the journal and the figures say
    so at 2.0 s on the run's timeline, and the words after keep the times they were said at.
    Also when the source's blocks are cut across the queue's (the gap starts mid-block)."""
    finals: list[Segment] = []
    offset = 10.0  # a later run in the same session

    async def scenario() -> CaptionService:
        async with TranscriptionServer(LevelWordsEngine(), ServerConfig(port=0)) as server:
            journal = Journal.start(tmp_path)
            service = CaptionService(
                server.url,
                journal=journal,
                listener=CaptionListener(final=finals.append),
                time_offset_s=offset,
            )
            # Word k sounds over [k - 0.9, k) s; 0.1 s blocks.
            audio = level_audio([1, 2, 3, 4, 5, 6], 1.0)
            source = StallingQueueSource(audio, stall_at=20, stalled_blocks=14, chunk_s=chunk_s)
            await service.run(source)
            journal.close()
            return service

    service = run(scenario())
    gaps = [(s.start - offset, s.gap_s) for s in finals if s.gap_s]
    assert gaps == [(pytest.approx(2.0), pytest.approx(1.0))]
    assert service.figures.lost_s == pytest.approx(1.0)
    words = [(s.text, round(s.start - offset, 3)) for s in finals if not s.gap_s]
    assert words == [("w1", 0.1), ("w2", 1.1), ("w4", 3.1), ("w5", 4.1), ("w6", 5.1)]
    journaled = read_journal(latest_session(tmp_path) or Path())
    assert [(s.start, s.gap_s) for s in journaled if s.gap_s] == [
        (pytest.approx(offset + 2.0), pytest.approx(1.0))
    ]


@pytest.mark.parametrize(
    ("label", "diarize", "shown"),
    [
        ("Others", True, ["Speaker 1", "Speaker 2", "Speaker 1", "Speaker 2"]),
        ("Others", False, ["Others"] * 4),
        ("You", True, ["You"] * 4),  # the user's own microphone is never split into voices
    ],
)
def test_the_others_voices_are_shown_as_speakers_when_asked(
    label: str, diarize: bool, shown: list[str]
) -> None:
    engine = TalkersEngine()  # two talkers, turns every second, labelled when diarize is on
    interims: list[tuple[str, str]] = []

    async def scenario() -> CaptionService:
        async with TranscriptionServer(engine, ServerConfig(port=0)) as server:
            listener = CaptionListener(interim=lambda seg: interims.append((seg.source, seg.text)))
            service = CaptionService(server.url, diarize=diarize, listener=listener)
            source = FileReplaySource(Path("talk.wav"), speed=20.0, audio=tone(4.0), label=label)
            await service.run(source)
            return service

    service = run(scenario())
    assert [s.source for s in service.transcript.finals] == shown
    assert [s.params.diarize for s in engine.sessions] == [diarize]
    if shown[0].startswith("Speaker"):  # the channel's interim line is cleared by each final
        assert interims.count((label, "")) == len(shown)
