"""What a screen reader is told: a name and a description for every control of the main
window, and each new caption, announced as the transcript shows it.

Many of Captionist's users are deaf or hard of hearing, and some of them read the screen with
a screen reader or a braille display: for them an unnamed control is a control that does not
exist, and a caption that is not announced was never said.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPersistentModelIndex
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QLabel,
    QLineEdit,
    QToolButton,
    QWidget,
)

from app.domain.transcript import Segment
from app.ui.transcript.model import SegmentRole, TranscriptModel

Announce = Callable[[QObject, str], None]
# More lines than this arriving at once (a restored session) are announced as a count.
MAX_LINES_READ_AT_ONCE = 3

# attribute of MainWindow -> (accessible name, description)
CONTROLS: dict[str, tuple[str, str]] = {
    "source_combo": (
        "What to caption",
        "System audio: the others in the call. Microphone: you. Both: you and the others.",
    ),
    "search": ("Search the transcript", "Shows only the lines with these words (Ctrl+F)."),
    "view": (
        "Transcript",
        "Every caption so far, a line per turn. F2 names its speaker, Ctrl+Shift+E corrects it.",
    ),
    "interim_label": ("Words being heard", "The caption still being heard, not final yet."),
    "live_button": ("Jump to live", "Scrolls the transcript back to the newest caption."),
    "state_label": ("Captioning state", "Ready, captioning, reconnecting, or what went wrong."),
    "engine_label": ("Speech engine", "The engine and model making the captions."),
    "latency_label": ("Caption delay", "How far the captions are behind the speech."),
    "echo_label": (
        "Echoes hidden",
        "Both mode: sentences the microphone heard from the speakers, shown once as Others.",
    ),
    "echo_cancel_label": (
        "Echo cancelling",
        "Both mode: whether the sound server removes the call from the microphone.",
    ),
    "level_meter": ("Input level", "How loud the audio being captioned is."),
}


ALERT_ON_LIGHT = "#b00020"  # red with a 7:1 contrast on white
ALERT_ON_DARK = "#ff8a80"  # and its light twin for a dark palette


def alert_colour(palette: QPalette) -> str:
    """The colour for a warning that must be read (autosave failed), on this palette."""
    return (
        ALERT_ON_DARK
        if palette.color(QPalette.ColorRole.Window).lightness() < 128
        else ALERT_ON_LIGHT
    )


class PaletteFollower(QObject):
    """Re-colours what the app colours itself when the system palette changes (dark, light,
    high contrast), so that nothing is left red on dark red."""

    def __init__(self, window: QWidget, alert: QLabel) -> None:
        super().__init__(window)
        self._window, self._alert = window, alert  # `alert`: the autosave problem's label
        window.installEventFilter(self)
        self.apply()

    def apply(self) -> None:
        colour = alert_colour(self._window.palette())
        self._alert.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.apply()
        return False


def describe(window: QWidget, sources: QComboBox) -> None:
    """Name every control of the main `window` (see CONTROLS; `sources`: what to caption) and
    the ones Qt makes for itself."""
    for attribute, (name, description) in CONTROLS.items():
        widget = getattr(window, attribute, None)
        if isinstance(widget, QWidget):
            widget.setAccessibleName(name)
            widget.setAccessibleDescription(description)
    sources.view().setAccessibleName("Sources to caption")  # its drop-down list
    for button in window.findChildren(QToolButton, "qt_toolbar_ext_button"):
        button.setAccessibleName("More toolbar buttons")
    for field in window.findChildren(QLineEdit):
        for clear in field.findChildren(QAbstractButton):
            clear.setAccessibleName("Clear the search")


def announce(target: QObject, text: str) -> None:
    """Have screen readers speak `text` without moving the focus (AT-SPI: an announcement)."""
    event = QAccessibleAnnouncementEvent(target, text)
    event.setPoliteness(QAccessible.AnnouncementPoliteness.Polite)
    QAccessible.updateAccessibility(event)


class CaptionAnnouncer(QObject):
    """Announces each caption once, as the transcript shows it: a new line as "Alice: the
    words" (with the name the user gave the speaker), and words added to an open line as just
    those words. A speaker renamed, a word corrected or a search typed announces nothing."""

    def __init__(self, model: TranscriptModel, target: QObject, speak: Announce = announce) -> None:
        super().__init__(target)
        self._model = model
        self._target = target
        self._speak = speak
        self._read: dict[int, str] = {}  # row -> the text of it already announced
        model.rowsInserted.connect(self._inserted)
        model.dataChanged.connect(self._changed)
        model.modelReset.connect(self._read.clear)

    def _segment(self, row: int) -> Segment | None:
        segment = self._model.data(self._model.index(row), SegmentRole)
        return segment if isinstance(segment, Segment) else None

    def _inserted(
        self, _parent: QModelIndex | QPersistentModelIndex, first: int, last: int
    ) -> None:
        count = last - first + 1
        if count > MAX_LINES_READ_AT_ONCE:
            for row in range(first, last + 1):
                segment = self._segment(row)
                self._read[row] = segment.text if segment else ""
            self._speak(self._target, f"{count} lines added to the transcript")
            return
        for row in range(first, last + 1):
            segment = self._segment(row)
            if segment is None or not segment.text.strip():
                continue
            self._read[row] = segment.text
            who = self._model.shown(segment.source)
            self._speak(self._target, f"{who}: {segment.text.strip()}" if who else segment.text)

    def _changed(
        self, top: QModelIndex | QPersistentModelIndex, bottom: QModelIndex | QPersistentModelIndex
    ) -> None:
        for row in range(top.row(), bottom.row() + 1):
            segment = self._segment(row)
            before = self._read.get(row, "")
            if segment is None or segment.text == before:
                continue
            self._read[row] = segment.text
            if not segment.text.startswith(before):
                continue  # the user corrected a word: they know, nothing new was said
            added = segment.text[len(before) :]
            if added.strip():
                self._speak(self._target, added.strip())
