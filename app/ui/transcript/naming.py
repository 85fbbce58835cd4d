"""Naming the speakers of a session: the dialog, and the name shown at once in the panel,
on the overlay's next lines, in exports, and in the journal (so a restore keeps it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtWidgets import QInputDialog

from app.domain.speakers import SpeakerNames
from app.services.journal import Journal
from app.ui.main_window import MainWindow
from app.ui.overlay.caption_overlay import CaptionOverlay


class SpeakerNaming:
    def __init__(
        self, window: MainWindow, overlay: CaptionOverlay, journal: Callable[[], Journal]
    ) -> None:
        self.window = window
        self.overlay = overlay
        self._journal = journal  # the session's, opened on first use
        self.names = SpeakerNames()
        self.dialog: QInputDialog | None = None  # the open one, if any (tests answer it)

    def ask(self, label: str) -> None:
        """Ask for a name for `label`, without blocking the captions meanwhile."""
        dialog = QInputDialog(self.window)
        dialog.setWindowTitle("Rename speaker")
        dialog.setLabelText(f"Name for “{label}” (leave empty to show “{label}” again):")
        dialog.setTextValue(self.names.get(label, ""))
        dialog.textValueSelected.connect(lambda name: self.rename(label, name))
        dialog.open()
        self.dialog = dialog

    def rename(self, label: str, name: str) -> bool:
        try:
            shown = self.names.rename(label, name)
        except ValueError as exc:
            self.window.statusBar().showMessage(f"Not renamed: {exc}", 8000)
            return False
        self._show()
        # Queued behind every final already written; a full disk keeps it for the next write.
        self._journal().submit_rename(label, self.names.get(label, ""))
        self.window.statusBar().showMessage(f"“{label}” is shown as “{shown}”", 5000)
        return True

    def merge(self, names: Mapping[str, str]) -> None:
        """Names that came with a restored session (already in the journal)."""
        for label, name in names.items():
            self.names.rename(label, name)
        self._show()

    def _show(self) -> None:
        self.window.model.set_names(self.names)
        self.overlay.names = dict(self.names)
