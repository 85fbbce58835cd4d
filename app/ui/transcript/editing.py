"""Correcting misheard words: the dialog. The session core keeps the corrected words (shown at
once in the panel and in every export) and journals an edit line per changed final
(app/domain/edits.py), beside the words heard, which stay there and in the line's tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog

from app.domain.edits import split_edit, words_of
from app.domain.export import _short_clock
from app.domain.transcript import Segment
from app.domain.turns import turn_text
from app.services.session import CurrentSession
from app.ui.main_window import MainWindow


class TranscriptEditing:
    def __init__(self, window: MainWindow, session: CurrentSession) -> None:
        self.window = window
        self.session = session
        self.dialog: QInputDialog | None = None  # the open one, if any (tests answer it)
        window.edit_requested.connect(self.ask)

    def ask(self, row: int) -> None:
        """Open row `row`'s words for correcting, without blocking the captions meanwhile."""
        if not 0 <= row < self.window.model.rowCount():
            return  # cleared meanwhile
        parts = self.window.model.parts(row)
        if parts[0].gap_s:
            self.window.statusBar().showMessage("Lost audio has no words to correct", 5000)
            return
        shown = turn_text(parts)
        heard = self.window.model.heard(row)
        who = self.window.model.shown(parts[0].source)
        dialog = QInputDialog(self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # freed once answered
        dialog.setOption(QInputDialog.InputDialogOption.UsePlainTextEditForTextInput)
        dialog.setWindowTitle("Edit line")
        dialog.setLabelText(
            f"{who} at {_short_clock(parts[0].start)}. Correct the words"
            + (f" (heard as: “{heard}”):" if heard else "; the words heard are kept:")
        )
        dialog.setTextValue(shown)
        # The finals as they were when the dialog opened: the turn may grow meanwhile.
        dialog.textValueSelected.connect(lambda text: self.correct(parts, text))
        dialog.destroyed.connect(lambda: self._forget(dialog))
        dialog.open()
        self.dialog = dialog

    def _forget(self, dialog: QInputDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def correct(self, parts: list[Segment], text: str) -> bool:
        """Spread the corrected `text` of a turn over its finals `parts`; show and journal
        each final whose words changed."""
        if not words_of(text):
            self.window.statusBar().showMessage(
                "Not corrected: a line needs a word (the words heard are still there)", 8000
            )
            return False
        changed = 0
        for part, new in zip(parts, split_edit([p.text for p in parts], text), strict=True):
            if new != part.text and self.session.correct(part, new) is not None:
                changed += 1
        message = "Corrected (hover the line for the words heard)" if changed else "No change"
        self.window.statusBar().showMessage(message, 5000)
        return changed > 0
