"""Show the Settings dialog and keep what the user chose (settings file, OS keyring).

`pactl` and the OS keyring can each take seconds (a busy sound server, a keyring waiting on
D-Bus or on the user to unlock it): they are asked in worker threads, and the dialog shows
their answers when they come, so the Qt loop never waits on them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from app.audio.devices import scan_devices
from app.credentials import deepgram_api_key, store_deepgram_api_key
from app.services.model_cost import better_cost
from app.services.session.engine_host import EngineHost
from app.services.settings import AppSettings, OverlayLook
from app.ui.settings.dialog import SettingsDialog
from app.ui.settings_store import SettingsStore


async def edit_settings(
    parent: QWidget,
    settings: AppSettings,
    store: SettingsStore,
    engines: EngineHost[Any] | None,
    saved: Callable[[AppSettings, OverlayLook], None],
) -> None:
    """Once the user presses OK: the settings are saved and handed to `saved`; a new API key
    then goes to the OS keyring (a failure is shown). Nothing happens on Cancel."""
    note = engines.note if engines is not None else ""
    dialog = SettingsDialog(
        settings, store.load_look(), None, parent, has_api_key=None, engine_note=note
    )
    lookups = [
        asyncio.ensure_future(_show_devices(dialog)),
        asyncio.ensure_future(_show_key_state(dialog)),
        asyncio.ensure_future(_show_better_cost(dialog)),
    ]
    try:
        accepted = await _answer(dialog)
        app, look = dialog.result_settings()
        new_key = dialog.new_api_key
    finally:
        for lookup in lookups:  # a late answer must not reach a deleted dialog
            lookup.cancel()
        dialog.deleteLater()
    if not accepted:
        return
    store.save_app(app)
    store.save_look(look)
    saved(app, look)
    key_saved = bool(new_key) and await _store_key(parent, new_key)
    if key_saved and engines is not None and app.engine == "deepgram":
        engines.mark_stale()  # the loaded provider still holds the old key


async def _answer(dialog: QDialog) -> bool:
    """Show `dialog` modal and wait for OK or Cancel without `exec()`: a nested Qt loop
    inside an asyncio task would re-enter the loop running that task."""
    answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def answered(code: int) -> None:
        if not answer.done():
            answer.set_result(code)

    dialog.finished.connect(answered)
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.show()
    return await answer == QDialog.DialogCode.Accepted.value


async def _show_devices(dialog: SettingsDialog) -> None:
    dialog.show_devices(await asyncio.to_thread(scan_devices))


async def _show_key_state(dialog: SettingsDialog) -> None:
    try:
        key = await asyncio.to_thread(deepgram_api_key)
    except Exception as exc:  # a backend error keyring does not wrap (D-Bus, say)
        dialog.show_key_state(None, type(exc).__name__)
        return
    dialog.show_key_state(key is not None)


async def _store_key(parent: QWidget, key: str) -> bool:
    try:
        await asyncio.to_thread(store_deepgram_api_key, key)
    except Exception as exc:  # keyring raises backend-specific errors
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "API key not saved",
            f"The OS keyring could not store the key ({type(exc).__name__}). "
            "Set DEEPGRAM_API_KEY in the environment instead.",
            QMessageBox.StandardButton.Ok,
            parent,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()  # not exec(): no nested loop inside this task
        return False
    return True


async def _show_better_cost(dialog: SettingsDialog) -> None:
    dialog.show_better_cost(await asyncio.to_thread(better_cost))
