"""Accessible names for every control, and captions announced once each (offscreen; the
AT-SPI test in tests/ui/x11 reads the same through a real accessibility bus)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from app.domain.transcript import Segment, gap_segment
from app.services.caption_events import CaptionState
from app.ui.accessibility import CONTROLS, CaptionAnnouncer
from app.ui.main_window import MainWindow
from app.ui.transcript.model import TranscriptModel


def test_every_listed_control_exists_and_has_a_name_and_a_description(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(TranscriptModel())
    qtbot.addWidget(window)
    for attribute, (name, description) in CONTROLS.items():
        widget = getattr(window, attribute)
        assert isinstance(widget, QWidget), attribute
        assert widget.accessibleName() == name and widget.accessibleDescription() == description


def announcements(model: TranscriptModel) -> list[str]:
    heard: list[str] = []
    target = QObject()
    model.setParent(target)  # kept alive with the announcer
    CaptionAnnouncer(model, target, lambda _target, text: heard.append(text))
    return heard


def test_a_new_line_is_announced_with_its_speaker_and_added_words_alone(qapp) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    heard = announcements(model)
    model.append(Segment("Good morning.", 0, 1, "Speaker 1", True, False))
    model.append(Segment("Shall we start?", 1, 2, "Speaker 1", True, True))  # same utterance
    model.append(Segment("Yes.", 2.5, 3, "You", True, True))
    assert heard == ["Speaker 1: Good morning.", "Shall we start?", "You: Yes."]


def test_a_rename_or_a_search_announces_nothing_and_names_are_used_after(qapp) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    heard = announcements(model)
    model.append(Segment("Hello.", 0, 1, "Speaker 2", True, True))
    model.set_names({"Speaker 2": "Alice"})
    model.append(Segment("Again.", 40, 41, "Speaker 2", True, True))  # after a break: a new line
    assert heard == ["Speaker 2: Hello.", "Alice: Again."]


def test_a_restored_session_is_announced_as_a_count_not_read_out(qapp) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    heard = announcements(model)
    voices = ("Others", "You")  # taking turns: a line each
    model.extend([Segment(f"line {k}", k, k + 1, voices[k % 2], True, True) for k in range(40)])
    model.append(gap_segment(50.0, 3.0))
    assert heard == ["40 lines added to the transcript", "[gap: 3.0 s of audio not captioned]"]


def test_one_obvious_button_start_while_idle_stop_while_captioning(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(TranscriptModel())
    qtbot.addWidget(window)
    window.set_running(CaptionState.IDLE, "")
    assert window.start_action.isVisible() and not window.stop_action.isVisible()
    window.set_running(CaptionState.STREAMING, "")
    assert window.stop_action.isVisible() and not window.start_action.isVisible()
    assert not window.start_action.icon().isNull() and not window.stop_action.icon().isNull()


def test_the_level_meter_reads_speech_near_its_middle() -> None:
    from app.ui.main_window import level_percent

    assert level_percent(0.0) == 0
    assert level_percent(0.001) == 0  # -60 dBFS: silence
    assert 45 <= level_percent(0.05) <= 60  # -26 dBFS: ordinary speech
    assert level_percent(1.0) == 100


def test_the_autosave_warning_stays_readable_when_the_palette_turns_dark(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QColor, QPalette

    from app.ui.accessibility import ALERT_ON_DARK, ALERT_ON_LIGHT

    window = MainWindow(TranscriptModel())
    qtbot.addWidget(window)
    light = window.palette()
    light.setColor(QPalette.ColorRole.Window, QColor("#f0f0f0"))
    window.setPalette(light)
    assert ALERT_ON_LIGHT in window.autosave_label.styleSheet()
    dark = QPalette(light)
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    window.setPalette(dark)  # as a system switch to dark mode does
    assert ALERT_ON_DARK in window.autosave_label.styleSheet()


def test_a_corrected_word_is_not_announced_again(qapp) -> None:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    heard = announcements(model)
    final = Segment("Send it to Nguyen.", 0, 1, "Speaker 1", True, True)
    model.append(final)
    assert model.correct(final, "Send it to Win.") is not None
    model.append(Segment("Thanks.", 40, 41, "Speaker 2", True, True))
    assert heard == ["Speaker 1: Send it to Nguyen.", "Speaker 2: Thanks."]


def test_help_lists_every_shortcut_of_the_window_from_its_actions(qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.ui.shortcuts import ShortcutsDialog, shortcut_rows

    window = MainWindow(TranscriptModel())
    qtbot.addWidget(window)
    rows = dict((what, keys) for keys, what in shortcut_rows(window))
    assert rows["Start"] == "Ctrl+R" and rows["Rename speaker"] == "F2"
    assert rows["Keyboard shortcuts"] == "F1" and rows["Edit line"] == "Ctrl+Shift+E"
    window.export_action.setShortcut("Ctrl+Alt+X")  # a changed shortcut is listed as it is
    assert ("Ctrl+Alt+X", "Export") in shortcut_rows(window)
    dialog = ShortcutsDialog(window)
    assert dialog.table.rowCount() == len(shortcut_rows(window))
