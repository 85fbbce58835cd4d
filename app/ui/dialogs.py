"""The About dialog and the restore question; the Settings dialog lives in app.ui.settings
(imported here as before)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.logs import log_dir
from app.resources import resources_dir
from app.ui.settings.dialog import LANGUAGES, SettingsDialog
from app.ui.settings.widgets import ColourButton

__all__ = [
    "LANGUAGES",
    "AboutDialog",
    "ColourButton",
    "SettingsDialog",
    "about_text",
    "ask_restore",
]


def about_text(model: str) -> str:
    return (
        f"<h3>Captionist {__version__}</h3>"
        "<p>Live captions for calls and meetings, offline by default.</p>"
        f"<p>Speech model: {model} (OpenAI Whisper weights, MIT licence; CTranslate2 "
        "conversion by Systran). Voice activity detection: Silero VAD (MIT). Speaker labels: "
        "GE2E voice encoder from Resemblyzer (Apache-2.0, Resemble.AI).</p>"
        f"<p>Log file: {log_dir() / 'captionist.log'}</p>"
    )


class AboutDialog(QDialog):
    """Version, model, log file, and the licences of every bundled third-party part."""

    def __init__(self, model: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Captionist")
        self.resize(640, 520)
        layout = QVBoxLayout(self)
        header = QLabel(about_text(model))
        header.setWordWrap(True)
        header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(header)
        self.licences = QTextBrowser()
        path = resources_dir() / "licenses" / "THIRD-PARTY.md"
        try:
            self.licences.setMarkdown(path.read_text(encoding="utf-8"))
        except OSError:
            self.licences.setPlainText(f"The licence list is missing ({path}).")
        layout.addWidget(self.licences, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def ask_restore(parent: QWidget, segments: int, restore: Callable[[], object]) -> QMessageBox:
    """Non-modal: the app starts and can caption while the question waits."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Restore the last session?",
        f"Captionist stopped unexpectedly during a session. Its transcript "
        f"({segments} segments) was saved. Restore it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        parent,
    )
    box.setModal(False)
    box.accepted.connect(restore)
    box.show()
    return box
