"""Naming the speakers of a session: the dialog. The name is the session core's: it shows it
at once in the panel, on the overlay's next lines, in exports, and in the journal."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog

from app.services.session import CurrentSession
from app.ui.main_window import MainWindow


class SpeakerNaming:
    def __init__(self, window: MainWindow, session: CurrentSession) -> None:
        self.window = window
        self.session = session
        self.dialog: QInputDialog | None = None  # the open one, if any (tests answer it)

    def ask(self, label: str) -> None:
        """Ask for a name for `label`, without blocking the captions meanwhile."""
        dialog = QInputDialog(self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # freed once answered
        dialog.setWindowTitle("Rename speaker")
        dialog.setLabelText(f"Name for “{label}” (leave empty to show “{label}” again):")
        dialog.setTextValue(self.session.words.names.get(label, ""))
        dialog.textValueSelected.connect(lambda name: self.rename(label, name))
        dialog.destroyed.connect(lambda: self._forget(dialog))
        dialog.open()
        self.dialog = dialog

    def _forget(self, dialog: QInputDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def rename(self, label: str, name: str) -> bool:
        try:
            shown = self.session.rename_speaker(label, name)
        except ValueError as exc:
            self.window.statusBar().showMessage(f"Not renamed: {exc}", 8000)
            return False
        self.window.statusBar().showMessage(f"“{label}” is shown as “{shown}”", 5000)
        return True
