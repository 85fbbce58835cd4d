"""Where the settings persist (QSettings): the values (`app/services/settings.py`), the overlay's
place on each screen and the main window's geometry."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

from PySide6.QtCore import QSettings

from app import APP_NAME
from app.services.settings import AppSettings, OverlayLook


def _string_tuple(stored: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    try:
        items = json.loads(str(stored))
    except ValueError:
        return default
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        return default
    return tuple(items)


class SettingsStore:
    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings or QSettings(APP_NAME, APP_NAME)

    def _load(self, group: str, value: Any) -> Any:
        self.qsettings.beginGroup(group)
        try:
            for field in fields(value):
                default = getattr(value, field.name)
                stored = self.qsettings.value(field.name, default)
                if isinstance(default, bool):
                    stored = stored in (True, "true", "1", 1)
                elif isinstance(default, tuple):
                    stored = _string_tuple(stored, default)
                elif isinstance(default, int | float):
                    try:
                        stored = type(default)(str(stored))
                    except (TypeError, ValueError):
                        stored = default
                setattr(value, field.name, stored)
        finally:
            self.qsettings.endGroup()
        return value

    def _save(self, group: str, value: Any) -> None:
        self.qsettings.beginGroup(group)
        for key, item in asdict(value).items():
            # A list goes in as JSON text: QSettings gives a one-item list back as a string.
            self.qsettings.setValue(key, json.dumps(item) if isinstance(item, tuple) else item)
        self.qsettings.endGroup()
        self.qsettings.sync()

    def load_app(self) -> AppSettings:
        return self._load("app", AppSettings())  # type: ignore[no-any-return]

    def save_app(self, value: AppSettings) -> None:
        self._save("app", value)

    def load_look(self) -> OverlayLook:
        look: OverlayLook = self._load("overlay", OverlayLook())
        return look.within_limits()

    def save_look(self, value: OverlayLook) -> None:
        self._save("overlay", value)

    def overlay_geometry(self, screen_key: str) -> list[int] | None:
        raw = self.qsettings.value(f"overlay-geometry/{screen_key}")
        if isinstance(raw, list | tuple) and len(raw) == 4:
            try:
                return [int(x) for x in raw]
            except (TypeError, ValueError):
                return None
        return None

    def save_overlay_geometry(self, screen_key: str, rect: list[int]) -> None:
        self.qsettings.setValue(f"overlay-geometry/{screen_key}", rect)
        self.qsettings.sync()

    def window_state(self) -> Any:
        return self.qsettings.value("main/geometry")

    def save_window_state(self, value: Any) -> None:
        self.qsettings.setValue("main/geometry", value)
        self.qsettings.sync()
