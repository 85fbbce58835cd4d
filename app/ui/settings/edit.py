"""Show the Settings dialog and keep what the user chose (settings file, OS keyring)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from app.audio.devices import list_devices
from app.credentials import deepgram_api_key, store_deepgram_api_key
from app.ui.settings.dialog import SettingsDialog
from app.ui.settings_store import AppSettings, OverlayLook, SettingsStore


def edit_settings(
    parent: QWidget, settings: AppSettings, store: SettingsStore, *, engine_note: str = ""
) -> tuple[AppSettings, OverlayLook, bool] | None:
    """(settings, look, whether a new API key was saved) once saved; None if cancelled."""
    dialog = SettingsDialog(
        settings,
        store.load_look(),
        list_devices(),
        parent,
        has_api_key=deepgram_api_key() is not None,
        engine_note=engine_note,
    )
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    app, look = dialog.result_settings()
    key_saved = False
    if dialog.new_api_key:
        try:
            store_deepgram_api_key(dialog.new_api_key)
            key_saved = True
        except Exception as exc:  # keyring raises backend-specific errors
            QMessageBox.warning(
                parent,
                "API key not saved",
                f"The OS keyring could not store the key ({type(exc).__name__}). "
                "Set DEEPGRAM_API_KEY in the environment instead.",
            )
    store.save_app(app)
    store.save_look(look)
    return app, look, key_saved
