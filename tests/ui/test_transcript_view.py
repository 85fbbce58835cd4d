"""The transcript panel offscreen: one row per turn with a time column and a coloured label,
search hits highlighted, lines copied as text, and a misheard word corrected: the correction
reaches the journal, every export and a restore, and the words heard stay available."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from app.domain.export import FORMATS
from app.domain.transcript import Segment, gap_segment
from app.domain.turns import MAX_PAUSE_S
from app.services.journal import Journal, read_session
from app.services.library import SessionLibrary
from app.ui.controller import AppController
from app.ui.main_window import MainWindow
from app.ui.text_highlight import HIGHLIGHT, clipped
from app.ui.transcript.label_colours import (
    OTHERS_COLOUR,
    YOU_COLOUR,
    contrast_ratio,
    ink_on,
    label_colour,
    palette,
)
from app.ui.transcript.model import RowRole, SegmentRole, TranscriptModel
from app.ui.transcript.view import highlight_ranges
from tests.formats import TXT_LINE, assert_export_format


@pytest.fixture(autouse=True)
def _windows_closing_do_not_quit(qapp: QApplication) -> Iterator[None]:
    """As app/main.py runs it: a test's window closed while a later test runs the qasync loop
    must not end that loop (Qt quits on the last window closed while it runs)."""
    before = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(before)


def final(
    text: str, start: float, source: str = "Speaker 1", *, speech_final: bool = True
) -> Segment:
    return Segment(text, start, start + 1.0, source, True, speech_final)


def rows(model: TranscriptModel) -> list[str]:
    return [str(model.data(model.index(row))) for row in range(model.rowCount())]


# -- turns ----------------------------------------------------------------------------------


def test_the_panel_shows_one_row_per_turn_and_exports_keep_the_utterances(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    qtmodeltester.check(model)
    model.append(final("Hello.", 0.0, speech_final=False))
    model.append(final("How are you?", 1.5))
    model.append(final("Fine.", 3.0, "Speaker 2"))
    model.append(final("Back after lunch.", 4.0 + MAX_PAUSE_S + 5, "Speaker 2"))
    model.extend([final("Restored.", 41.0, "Speaker 2")])  # another session: a turn of its own
    qtmodeltester.check(model)
    assert rows(model) == [
        "[00:00] Speaker 1: Hello. How are you?",
        "[00:03] Speaker 2: Fine.",
        "[00:39] Speaker 2: Back after lunch.",
        "[00:41] Speaker 2: Restored.",
    ]
    turn = model.data(model.index(0), SegmentRole)
    assert (turn.text, turn.start, turn.end, turn.source) == (
        "Hello. How are you?",
        0,
        2.5,
        "Speaker 1",
    )
    shown = model.data(model.index(1), RowRole)
    assert (shown.clock, shown.label, shown.who, shown.text) == (
        "00:03",
        "Speaker 2",
        "Speaker 2",
        "Fine.",
    )
    model.set_names({"Speaker 2": "Bob"})
    assert rows(model)[1] == "[00:03] Bob: Fine."
    assert model.data(model.index(1), RowRole).label == "Speaker 2"  # the colour stays the label's
    assert [s.text for s in model.segments] == [
        "Hello. How are you?",
        "Fine.",
        "Back after lunch.",
        "Restored.",
    ]


def test_both_channels_interleaved_alternate_turns_in_the_order_heard(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    qtmodeltester.check(model)
    model.append(final("So the plan", 0.0, "Others", speech_final=False))
    model.append(final("Yes.", 0.5, "You"))
    model.append(final("is to ship.", 1.0, "Others"))
    model.append(gap_segment(2.5, 1.0))
    model.append(final("Good.", 4.0, "Others"))
    assert [r.split("] ", 1)[1] for r in rows(model)] == [
        "Others: So the plan",
        "You: Yes.",
        "Others: is to ship.",
        "[gap: 1.0 s of audio not captioned]",
        "Others: Good.",
    ]
    assert model.segments[0].text == "So the plan is to ship."  # one utterance


def test_a_turn_that_goes_on_grows_its_row_and_the_panel_follows_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    window = MainWindow(model)
    qtbot.addWidget(window)
    window.resize(600, 300)
    window.show()
    view, bar = window.view, window.view.verticalScrollBar()

    def height() -> int:
        return view.visualRect(window.proxy.index(0, 0)).height()

    model.append(final("First words.", 0.0, "Others"))
    qtbot.waitUntil(lambda: height() > 0)
    one_line = height()
    for n in range(1, 12):  # one turn, soon far taller than the panel, shown as it goes on
        before = height()
        words = f"and then sentence {n} of the same long answer, " * 3  # wider than the panel
        model.append(final(words, n * 2.0, "Others"))
        qtbot.waitUntil(lambda before=before: height() > before)  # type: ignore[misc]
        qtbot.waitUntil(lambda: bar.value() == bar.maximum())  # its last words in view
    assert model.rowCount() == 1 and height() > 5 * one_line and bar.maximum() > 0
    assert window.following


# -- colours --------------------------------------------------------------------------------


def test_each_label_keeps_one_colour_and_you_is_always_the_same_one() -> None:
    speakers = [label_colour(f"Speaker {n}") for n in range(1, 9)]
    assert len(set(speakers)) == 8 and YOU_COLOUR not in speakers
    assert label_colour("You") == YOU_COLOUR
    assert [label_colour(f"Speaker {n}") for n in range(1, 9)] == speakers  # stable
    assert label_colour("Others") == OTHERS_COLOUR and OTHERS_COLOUR not in speakers
    assert label_colour("Front desk") == label_colour("Front desk")  # any other label
    assert label_colour("") == ""  # a gap marker: no label, no chip


@pytest.mark.parametrize("fill", [YOU_COLOUR, OTHERS_COLOUR, *palette()])
def test_a_label_reads_on_its_chip_whatever_the_window_palette(fill: str) -> None:
    """The label is drawn in black or white on its own colour: the window's light or dark
    palette is only around it."""
    assert contrast_ratio(fill, ink_on(fill)) >= 4.5, fill


# -- search ---------------------------------------------------------------------------------


def test_every_hit_is_found_whatever_its_case_and_the_query_is_plain_text() -> None:
    assert highlight_ranges("Budget, budget and BUDGETS", "budget") == [(0, 6), (8, 6), (19, 6)]
    assert highlight_ranges("a+b or a.b", "a+b") == [(0, 3)]
    assert highlight_ranges("anything", "") == []
    assert highlight_ranges("🎉 party", "party") == [(3, 5)]  # UTF-16 offsets, as Qt counts


def test_an_elided_line_keeps_the_highlights_of_what_is_still_shown() -> None:
    assert clipped([(0, 4), (8, 6), (20, 3)], 10) == [(0, 4), (8, 2)]
    assert clipped([(10, 2)], 10) == []


def highlighted_pixels(window: MainWindow) -> int:
    image = window.view.viewport().grab().toImage()
    target = QColor(HIGHLIGHT)
    return sum(
        image.pixelColor(x, y) == target
        for y in range(0, image.height(), 2)
        for x in range(0, image.width(), 2)
    )


def test_the_words_are_drawn_in_the_palette_text_colour_beside_their_coloured_label(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    window = MainWindow(model)
    qtbot.addWidget(window)
    window.resize(700, 300)
    window.show()
    model.extend([final("Words the reader must see, right after the label chip.", 0.0, "You")])
    view = window.view
    qtbot.waitUntil(lambda: view.visualRect(window.proxy.index(0, 0)).height() > 0)
    row = view.viewport().grab(view.visualRect(window.proxy.index(0, 0))).toImage()
    ink = view.palette().color(QPalette.ColorRole.Text)

    def pixels(colour: QColor, x_from: int, x_to: int) -> int:
        return sum(
            abs(row.pixelColor(x, y).red() - colour.red())
            + abs(row.pixelColor(x, y).green() - colour.green())
            + abs(row.pixelColor(x, y).blue() - colour.blue())
            < 60
            for y in range(row.height())
            for x in range(x_from, min(x_to, row.width()))
        )

    assert pixels(QColor(YOU_COLOUR), 40, 200) > 100  # the chip
    assert pixels(ink, 200, row.width()) > 30  # the words, after the label column


def test_search_filters_the_rows_and_highlights_each_hit_in_them(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    window = MainWindow(model)
    qtbot.addWidget(window)
    window.resize(700, 400)
    window.show()
    model.extend(
        [
            final("The budget for the budget review", 0.0, "Speaker 1"),
            final("Schedule first", 5.0, "Speaker 2"),
            final("BUDGET again", 9.0, "Speaker 1"),
        ]
    )
    assert highlighted_pixels(window) == 0
    window.search.setText("budget")
    assert window.proxy.rowCount() == 2
    qtbot.waitUntil(lambda: highlighted_pixels(window) > 100)
    window.search.clear()
    assert window.proxy.rowCount() == 3
    qtbot.waitUntil(lambda: highlighted_pixels(window) == 0)


# -- copy -----------------------------------------------------------------------------------


def test_ctrl_c_copies_the_selected_lines_with_time_and_label(qtbot) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    window = MainWindow(model)
    qtbot.addWidget(window)
    window.show()
    model.extend([final(f"line {n}", n * 40.0, f"Speaker {n % 2 + 1}") for n in range(5)])
    window.activateWindow()  # a window's shortcuts work while it is the active one
    qtbot.waitUntil(window.isActiveWindow)
    view = window.view
    view.setFocus()
    selection = QItemSelection(window.proxy.index(1, 0), window.proxy.index(3, 0))
    view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    QGuiApplication.clipboard().clear()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    copied = QGuiApplication.clipboard().text().split("\n")
    assert copied == [
        "[00:40] Speaker 2: line 1",
        "[01:20] Speaker 1: line 2",
        "[02:00] Speaker 2: line 3",
    ]
    assert all(TXT_LINE.match(line) for line in copied)  # as a TXT export writes them


# -- correcting a misheard word -------------------------------------------------------------


def heard(controller: AppController, *finals: Segment) -> None:
    """As the captioning service does: each final journaled, then shown."""
    journal = controller.session.open_journal()
    for segment in finals:
        journal.append(segment)
        controller.session.add_final(segment)


def edit_row(controller: AppController, row: int, text: str) -> None:
    """As the user does: select a line, Edit line…, correct the words, OK."""
    view = controller.window.view
    view.setCurrentIndex(view.model().index(row, 0))
    controller.window.edit_action.trigger()
    dialog = controller.editing.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.setTextValue(text)
    dialog.accept()


def journal_lines(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> list[dict[str, object]]:
    assert controller.session.journal is not None
    qloop.run_until_complete(controller.session.journal.aclose())
    return [json.loads(line) for line in controller.session.journal.path.read_text().splitlines()]


def test_a_corrected_word_is_shown_journaled_and_exported_and_the_words_heard_are_kept(
    controller: AppController, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    heard(
        controller,
        final("We meet in the bored room", 0.0, speech_final=False),
        final("at noon.", 1.5),
        final("OK.", 3.0, "Speaker 2"),
    )
    model = controller.model
    edit_row(controller, 0, "We meet in the board room at noon.")
    assert rows(model)[0] == "[00:00] Speaker 1: We meet in the board room at noon."
    tip = str(model.data(model.index(0), Qt.ItemDataRole.ToolTipRole))
    assert "We meet in the bored room at noon." in tip  # the words heard
    assert model.data(model.index(0), RowRole).edited
    for fmt in FORMATS:
        assert controller.files.export_to(tmp_path / f"t.{fmt}", fmt)
        text = (tmp_path / f"t.{fmt}").read_text(encoding="utf-8")
        texts = assert_export_format(text, fmt, title="Captionist transcript")
        assert "We meet in the board room at noon." in texts[0], fmt
        assert "bored" not in text, fmt
    lines = journal_lines(controller, qloop)
    assert [line["text"] for line in lines[:3]] == ["We meet in the bored room", "at noon.", "OK."]
    # One edit, for the one final whose words changed; the final's line is untouched.
    assert lines[3:] == [
        {"edit": {"start": 0.0, "source": "Speaker 1", "text": "We meet in the board room"}}
    ]
    assert controller.session.journal is not None
    segments, _ = read_session(controller.session.journal.path)
    assert (segments[0].text, segments[0].original) == (
        "We meet in the board room",
        "We meet in the bored room",
    )
    # The session library (and `captionist sessions`) reads the journal: corrected there too.
    library = SessionLibrary(tmp_path / "sessions", tmp_path / "library.sqlite")
    session = controller.session.journal.path.stem
    assert "We meet in the board room at noon." in library.export(session, "txt")
    assert [hit.session_id for hit in library.search("board")] == [session]
    assert library.search("bored") == []
    library.close()


def test_a_double_click_opens_the_line_for_correcting(controller: AppController, qtbot) -> None:  # type: ignore[no-untyped-def]
    heard(controller, final("Hello word.", 0.0))
    controller.window.show()
    view = controller.window.view
    qtbot.waitUntil(lambda: view.visualRect(view.model().index(0, 0)).height() > 0)
    centre = view.visualRect(view.model().index(0, 0)).center()
    # A real double-click: a click, then the second press (a view ignores a lone one).
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    dialog = controller.editing.dialog
    assert dialog is not None and dialog.isVisible() and dialog.textValue() == "Hello word."
    dialog.reject()


def test_words_heard_while_the_editor_is_open_are_not_lost(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    heard(controller, final("one too", 0.0, speech_final=False))
    view = controller.window.view
    view.setCurrentIndex(view.model().index(0, 0))
    controller.window.edit_action.trigger()
    heard(controller, final("three four", 1.5))  # the turn grows meanwhile
    dialog = controller.editing.dialog
    assert dialog is not None
    dialog.setTextValue("one two")
    dialog.accept()
    assert rows(controller.model) == ["[00:00] Speaker 1: one two three four"]


def test_a_correction_that_removes_every_word_is_refused(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    heard(controller, final("Thank you.", 0.0))
    edit_row(controller, 0, "   ")
    assert rows(controller.model) == ["[00:00] Speaker 1: Thank you."]
    assert "Not corrected" in controller.window.statusBar().currentMessage()
    assert not any("edit" in line for line in journal_lines(controller, qloop))


def test_a_gap_marker_has_no_words_to_correct(controller: AppController) -> None:
    controller.session.add_final(gap_segment(0.0, 2.0))
    view = controller.window.view
    view.setCurrentIndex(view.model().index(0, 0))
    controller.window.edit_action.trigger()
    assert controller.editing.dialog is None


def test_a_restored_session_shows_its_corrections_and_carries_them_into_this_journal(
    controller: AppController, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    earlier = Journal.start(tmp_path / "sessions")
    misheard = final("the bored room", 1.5, "Speaker 1")
    earlier.append(final("We meet in", 0.0, "Speaker 1", speech_final=False))
    earlier.append(misheard)
    earlier.submit_edit(misheard, "the board room").result()
    earlier.close()
    heard(controller, final("Today first.", 0.0, "Speaker 1"))
    assert controller.session.restore(earlier.path) == 1
    model = controller.model
    # After this session's own line, its voice numbered after this session's.
    assert rows(model)[1] == "[00:02] Speaker 2: We meet in the board room"
    tip = str(model.data(model.index(1), Qt.ItemDataRole.ToolTipRole))
    assert "Heard as: We meet in the bored room" in tip
    edit_row(controller, 1, "We meet in the boardroom")  # again, in this session's terms
    lines = journal_lines(controller, qloop)
    # The restored final kept as heard, with its edit moved to its new start and label.
    assert {"edit": {"start": 3.5, "source": "Speaker 2", "text": "the board room"}} in lines
    assert lines[-1] == {"edit": {"start": 3.5, "source": "Speaker 2", "text": "the boardroom"}}
    assert controller.session.journal is not None
    segments, _ = read_session(controller.session.journal.path)
    assert [(s.text, s.original) for s in segments] == [
        ("Today first.", ""),
        ("We meet in", ""),
        ("the boardroom", "the bored room"),
    ]


def test_an_edited_row_is_marked_and_still_copies_as_one_plain_line(
    controller: AppController, qapp: QApplication
) -> None:
    heard(controller, final("Helo.", 0.0))
    edit_row(controller, 0, "Hello.")
    window = controller.window
    window.view.selectAll()
    window.copy_selection()
    assert QGuiApplication.clipboard().text() == "[00:00] Speaker 1: Hello."
