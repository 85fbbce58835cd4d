"""The current session's files as the window shows them: the Export dialog, a crashed session
offered back, and the question asked before unsaved lines would be dropped. The work itself is
the session core's (app/services/session/)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.domain.export import FORMATS
from app.services.session import CurrentSession
from app.services.settings import AppSettings
from app.ui.dialogs import ask_restore
from app.ui.settings_store import SettingsStore

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
    """Non-modal: captioning goes on while the user reads it. Freed once closed."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Export failed",
        f"{message}\n\nThe transcript is still here and in the autosave journal.",
        QMessageBox.StandardButton.Ok,
        parent,
    )
    box.setModal(False)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()
    return box


class Unsaved(Enum):
    """What the user chose for lines the disk refused, before they would be dropped."""

    EXPORT = "export"  # written elsewhere first, then go on
    KEEP_TRYING = "keep trying"  # do not go on: the journal keeps trying
    DISCARD = "discard"  # go on without them


class TranscriptFiles:
    def __init__(
        self,
        window: QWidget,
        session: CurrentSession,
        settings: Callable[[], AppSettings],
        store: SettingsStore,
        status: Callable[[str, int], None],
    ) -> None:
        self.window, self.session, self.settings, self.store = window, session, settings, store
        self.status = status  # the main window's status bar: (text, milliseconds)
        self.last_error = ""
        self.error_box: QMessageBox | None = None
        self.restore_box: QMessageBox | None = None
        self.unsaved_box: QMessageBox | None = None  # the open question, if any (tests answer)

    def export_dialog(self) -> bool:
        settings = self.settings()
        default = Path(settings.export_folder) / f"transcript.{settings.export_format}"
        chosen = ask_export_path(self.window, default)
        return chosen is not None and self.export_to(*chosen)

    def export_to(self, path: Path, fmt: str) -> bool:
        try:
            self.session.export_to(path, fmt)
        except OSError as exc:  # a full disk or a read-only folder: say so, lose nothing
            self.last_error = f"Could not write {path}: {exc.strerror or exc}"
            self.error_box = export_failed_box(self.window, self.last_error)
            return False
        settings = self.settings()
        settings.export_folder, settings.export_format = str(path.parent), fmt
        self.store.save_app(settings)
        self.status(f"Exported to {path}", 5000)
        return True

    def offer_restore(self, path: Path) -> None:
        """The last session ended without closing (a crash): offer its transcript back."""
        count = self.session.crashed_offer(path)
        if count:
            box = ask_restore(self.window, count, lambda: self.session.restore(path))
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.restore_box = box

    async def settle_unsaved(self, doing: str) -> bool:
        """Before `doing` (quit, continue another session) drops what the disk refused: ask,
        until it is exported, saved or the user lets it go. False: do not go on."""
        while (count := self.session.unsaved) > 0:
            answer = await self._ask_unsaved(count, doing)
            if answer is Unsaved.DISCARD:
                return True
            if answer is Unsaved.KEEP_TRYING:
                if await self.session.retry_save():
                    return True
                self.status(f"{_lines(count)} still unsaved: the disk refuses them", 10_000)
                return False
            if self.export_dialog():
                return True
        return True

    async def _ask_unsaved(self, count: int, doing: str) -> Unsaved:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Unsaved captions",
            f"{_lines(count)} of this session could not be saved (the disk refused them) and "
            f"exist only in memory. Before you {doing}: export them, keep trying to save "
            "them, or discard them?",
            QMessageBox.StandardButton.NoButton,
            self.window,
        )
        export = box.addButton("Export…", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep trying", QMessageBox.ButtonRole.RejectRole)
        box.addButton(f"Discard {_lines(count)}", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(export)
        box.setEscapeButton(keep)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        answer: asyncio.Future[Unsaved] = asyncio.get_running_loop().create_future()

        def clicked(button: object) -> None:
            if answer.done():
                return
            if button is export:
                answer.set_result(Unsaved.EXPORT)
            else:
                answer.set_result(Unsaved.KEEP_TRYING if button is keep else Unsaved.DISCARD)

        box.buttonClicked.connect(clicked)
        box.finished.connect(lambda _: clicked(keep))  # closed without a button: nothing lost
        box.open()
        self.unsaved_box = box
        try:
            return await answer
        finally:
            self.unsaved_box = None


def _lines(count: int) -> str:
    return f"{count} line{'' if count == 1 else 's'}"
