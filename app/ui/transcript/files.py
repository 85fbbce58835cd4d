"""The current session's transcript files: export it, restore a saved session into it, offer a
crashed session back. The controller owns one and delegates its menu actions here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.domain.export import FORMATS, ExportOptions, export
from app.services.caption_events import AUTOSAVE_FAILED
from app.services.journal import dismiss_crashed, read_journal
from app.services.restore import SessionRestore, last_session

if TYPE_CHECKING:
    from app.ui.controller import AppController

EXPORT_FILTERS = ";;".join(f"{fmt.upper()} (*.{fmt})" for fmt in FORMATS)


def ask_export_path(parent: QWidget, default: Path) -> tuple[Path, str] | None:
    """The Export dialog: where to write and in which format (from the file's suffix, else
    the filter chosen); None if cancelled."""
    path, chosen = QFileDialog.getSaveFileName(
        parent, "Export transcript", str(default), EXPORT_FILTERS
    )
    if not path:
        return None
    fmt = Path(path).suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        fmt = chosen.split(" ")[0].lower()
        path += f".{fmt}"
    return Path(path), fmt


def export_failed_box(parent: QWidget, message: str) -> QMessageBox:
    """Non-modal: captioning goes on while the user reads it."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Export failed",
        f"{message}\n\nThe transcript is still here and in the autosave journal.",
        QMessageBox.StandardButton.Ok,
        parent,
    )
    box.setModal(False)
    box.show()
    return box


class TranscriptFiles:
    def __init__(self, controller: AppController) -> None:
        self.controller = controller
        self.restorer = SessionRestore()
        self.restore_after_run: Path | None = None
        self.last_error = ""
        self.error_box: QMessageBox | None = None
        self.restore_box: QMessageBox | None = None

    def export_dialog(self) -> None:
        settings = self.controller.settings
        default = Path(settings.export_folder) / f"transcript.{settings.export_format}"
        chosen = ask_export_path(self.controller.window, default)
        if chosen is not None:
            self.export_to(*chosen)

    def export_to(self, path: Path, fmt: str) -> bool:
        c = self.controller
        options = ExportOptions(title="Captionist transcript", names=c.naming.names)
        text = export(c.model.segments, fmt, options)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:  # a full disk or a read-only folder: say so, lose nothing
            self.last_error = f"Could not write {path}: {exc.strerror or exc}"
            self.error_box = export_failed_box(c.window, self.last_error)
            return False
        c.settings.export_folder, c.settings.export_format = str(path.parent), fmt
        c.store.save_app(c.settings)
        c.window.statusBar().showMessage(f"Exported to {path}", 5000)
        return True

    def restore_last(self) -> None:
        journal = self.controller.journal
        path = last_session(self.controller.journal_dir, journal.path if journal else None)
        if path is not None:
            self.restore(path)

    def offer_restore(self, path: Path) -> None:
        """The last session ended without closing (a crash): offer its transcript back."""
        from app.ui.dialogs import ask_restore

        count = len(read_journal(path))
        dismiss_crashed(path)
        if count:
            window = self.controller.window
            self.restore_box = ask_restore(window, count, lambda: self.restore(path))

    def restore(self, path: Path) -> int:
        """Add a saved session's transcript after what this one holds, and to its journal."""
        c = self.controller
        if c.service is not None and c.service.running:
            # The run's times are fixed: restored lines go after all of it, once it ends.
            self.restore_after_run = path
            c.window.statusBar().showMessage(f"{path.name}: restored when you stop", 8000)
            return 0
        self.restore_after_run = None
        restored = self.restorer.restore(path, c._journal(), c.model.segments)
        c.model.extend(restored.finals)
        c.naming.merge(restored.names)
        c.window.statusBar().showMessage(restored.note, 8000)
        if restored.autosave_warning is not None:
            c._warning(AUTOSAVE_FAILED, restored.autosave_warning)
        return len(restored.utterances)

    def run_ended(self) -> None:
        """A restore asked for while captioning happens now."""
        if self.restore_after_run is not None:
            self.restore(self.restore_after_run)
