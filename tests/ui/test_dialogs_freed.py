"""Dialogs are freed when they close: editing a line, renaming a speaker, a failed export and
the restore question each leave no dialog behind, so the count of live dialogs stays flat
however long the app runs. Before: each one stayed a child of the main window until quit."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QDialog, QMessageBox

from app.domain.transcript import Segment
from app.services.journal import Journal, marker_of
from app.ui.controller import AppController

TIMES = 100


def live_dialogs(controller: AppController) -> int:
    # WA_DeleteOnClose deletes later: let the deferred deletes run, as the event loop does.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return len(controller.window.findChildren(QDialog))


def select(controller: AppController, row: int) -> None:
    view = controller.window.view
    view.setCurrentIndex(view.model().index(row, 0))


def test_a_hundred_edits_and_renames_leave_no_dialog_behind(controller: AppController) -> None:
    controller.session.add_final(Segment("the first words", 0.0, 1.0, "Speaker 1", True, True))
    before = live_dialogs(controller)
    for n in range(TIMES):
        select(controller, 0)
        controller.window.edit_action.trigger()
        edit = controller.editing.dialog
        assert edit is not None
        edit.setTextValue(f"the words {n}")
        edit.accept()
        controller.window.rename_action.trigger()
        rename = controller.naming.dialog
        assert rename is not None
        rename.setTextValue(f"Name {n}")
        (rename.reject if n % 2 else rename.accept)()  # cancelled ones too
    assert live_dialogs(controller) == before
    assert controller.editing.dialog is None and controller.naming.dialog is None
    assert controller.session.words.finals[0].text == f"the words {TIMES - 1}"


def test_failed_exports_and_restore_questions_leave_no_box_behind(
    controller: AppController, tmp_path: Path
) -> None:
    controller.session.add_final(Segment("kept", 0.0, 1.0, "You", True, True))
    before = live_dialogs(controller)
    for _ in range(TIMES):
        assert not controller.files.export_to(tmp_path / "no such folder" / "t.txt", "txt")
        box = controller.files.error_box
        assert isinstance(box, QMessageBox) and box.isVisible()
        box.close()
    crashed = Journal.start(tmp_path / "old")
    crashed.append(Segment("saved", 0.0, 1.0, "You", True, True))
    crashed.close()
    for _ in range(TIMES):
        marker_of(crashed.path).touch()  # crashed again
        controller.files.offer_restore(crashed.path)
        question = controller.files.restore_box
        assert question is not None
        question.reject()
    assert live_dialogs(controller) == before
