"""Both mode keeps time order: a You final the echo guard held comes out before an Others
final that started after it, also when that Others final is the one that releases it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from app.domain.echo import EchoGuard
from app.domain.transcript import Segment
from app.server.server import ServerConfig, TranscriptionServer
from app.services.caption_events import CaptionListener
from app.services.captioning import CaptionService
from app.services.journal import Journal, read_journal
from tests.conftest import run
from tests.fake_sources import StereoSource
from tests.fakes import LEVEL_STEP, LevelWordsEngine

RATE = 16000


def you(text: str, start: float, end: float) -> Segment:
    return Segment(text, start, end, "You")


def others(text: str, start: float, end: float) -> Segment:
    return Segment(text, start, end, "Others")


def test_a_held_you_final_released_by_a_later_others_final_comes_before_it() -> None:
    guard = EchoGuard()
    mine = you("sorry can I jump in", 1.0, 2.0)
    assert guard.offer(mine) == []  # held: Others has not settled past it
    theirs = others("the quarterly numbers look better", 1.5, 3.0)
    assert guard.offer(theirs) == [mine, theirs]
    assert not guard.holding


def test_an_others_final_that_started_first_still_comes_first() -> None:
    guard = EchoGuard()
    mine = you("sorry can I jump in", 2.0, 2.5)
    guard.offer(mine)
    theirs = others("the quarterly numbers look better", 1.0, 3.0)
    assert guard.offer(theirs) == [theirs, mine]


def test_a_tie_keeps_the_others_final_first() -> None:
    guard = EchoGuard()
    mine = you("sorry can I jump in", 1.0, 2.0)
    guard.offer(mine)
    theirs = others("the quarterly numbers look better", 1.0, 3.0)
    assert guard.offer(theirs) == [theirs, mine]


def test_held_finals_on_either_side_of_the_releasing_others_final_are_ordered() -> None:
    guard = EchoGuard()
    first, second = you("sorry", 0.5, 1.0), you("can I jump in", 2.0, 2.5)
    guard.offer(first)
    guard.offer(second)
    theirs = others("the quarterly numbers look better", 1.2, 3.0)
    assert guard.offer(theirs) == [first, theirs, second]


def test_others_settled_past_its_words_releases_in_order_with_it() -> None:
    """A real engine's final runs past its last word (trailing silence): the message says
    Others has settled up to its end, which can release a held You line with it, in order."""
    guard = EchoGuard()
    mine = you("sorry can I jump in", 0.1, 1.0)
    guard.offer(mine)
    theirs = others("the numbers", 0.5, 1.2)  # its words end before 1.0 + margin
    assert guard.offer(theirs, until=1.7) == [mine, theirs]
    assert guard.settle("Others", 1.7) == []


def test_settling_short_of_a_held_line_keeps_holding_it() -> None:
    guard = EchoGuard()
    mine = you("sorry can I jump in", 0.1, 1.0)
    guard.offer(mine)
    theirs = others("the numbers", 0.5, 1.1)
    assert guard.offer(theirs, until=1.2) == [theirs]
    assert guard.holding
    assert guard.settle("Others", 1.3) == [mine]


_SPAN = st.tuples(
    st.sampled_from(["You", "Others"]),
    st.floats(0.0, 20.0, allow_nan=False),
    st.floats(0.05, 3.0, allow_nan=False),
    st.floats(0.0, 1.0, allow_nan=False),
)


@given(st.lists(_SPAN, max_size=12))
def test_what_one_call_returns_is_in_start_order(
    spans: list[tuple[str, float, float, float]],
) -> None:
    guard = EchoGuard()
    for number, (source, start, length, tail) in enumerate(spans):
        segment = Segment(f"word{number}", start, start + length, source)
        shown = guard.offer(segment, until=start + length + tail)
        starts = [s.start for s in shown]
        assert starts == sorted(starts)
    rest = [s.start for s in guard.flush()]
    assert rest == sorted(rest)


def _channel(words: list[tuple[int, float, float]], seconds: float) -> np.ndarray:
    audio = np.zeros(round(seconds * RATE), dtype=np.float32)
    for level, start, end in words:
        audio[round(start * RATE) : round(end * RATE)] = level * LEVEL_STEP
    return audio


def test_the_listener_and_the_journal_get_both_channels_in_time_order(tmp_path: Path) -> None:
    """The user says w9 (0.1-1.0 s) and w7 (3.1-4.0 s); the others, w5 (0.5-1.5 s) and w3
    (3.5-4.2 s). Each You final comes first, is held (Others has not settled past it), and is
    released by the Others final after it: w5 by its words, w3 by its message's end (the
    engine's finals run 0.5 s past their words). Paced, so that no hold runs out instead."""
    mic = _channel([(9, 0.1, 1.0), (7, 3.1, 4.0)], 5.0)
    other = _channel([(5, 0.5, 1.5), (3, 3.5, 4.2)], 5.0)
    shown: list[Segment] = []

    async def scenario() -> CaptionService:
        engine = LevelWordsEngine(overhang_s=0.5)
        async with TranscriptionServer(engine, ServerConfig(port=0)) as server:
            journal = Journal.start(tmp_path)
            service = CaptionService(
                server.url, journal=journal, listener=CaptionListener(final=shown.append)
            )
            await service.run(StereoSource(np.stack([mic, other], axis=1), pause_s=0.02))
            await journal.aclose()
            return service

    service = run(scenario())
    expected = [("You", "w9"), ("Others", "w5"), ("You", "w7"), ("Others", "w3")]
    assert [(s.source, s.text) for s in shown] == expected
    assert [(s.source, s.text) for s in service.transcript.finals] == expected
    assert service.journal is not None
    assert [(s.source, s.text) for s in read_journal(service.journal.path)] == expected
    assert service.figures.echoes_hidden == 0
