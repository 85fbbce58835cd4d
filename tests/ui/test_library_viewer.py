"""A search hit opens the saved session at the line that holds the words, also when the
other side spoke in the middle of the sentence (Both mode: the sentence spans two lines)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from app.domain.transcript import Segment, numbered_utterances
from app.services.library import SessionContents
from app.ui.library.viewer import SessionViewer


def contents(finals: list[Segment]) -> SessionContents:
    numbered = numbered_utterances(finals)
    return SessionContents(
        "2024-03-04T10-00-00",
        Path("unused.jsonl"),
        finals,
        {},
        "Budget",
        False,
        [utterance for _, utterance in numbered],
        [first for first, _ in numbered],
    )


def test_a_hit_in_a_sentence_the_other_side_interrupted_opens_at_its_words(qtbot) -> None:  # type: ignore[no-untyped-def]
    finals = [
        Segment("Let's talk about the", 0.0, 1.0, "You", True, False),
        Segment("Sorry, one second.", 1.0, 2.0, "Others", True, True),
        Segment("budget for next year.", 2.5, 4.0, "You", True, True),
    ]
    viewer = SessionViewer(contents(finals), datetime(2024, 3, 4, 10))
    qtbot.addWidget(viewer)
    assert viewer.model.rowCount() == 3  # You, Others, You: the sentence is split
    viewer.select_final(0, ["Budget"])  # the hit: the You sentence, which starts at final 0
    assert viewer.current_row() == 2
    viewer.select_final(0, ["talk"])
    assert viewer.current_row() == 0
    viewer.select_final(0)  # no words: the sentence's first line
    assert viewer.current_row() == 0
