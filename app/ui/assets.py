"""Icons and other Qt assets from `resources/`."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from app.resources import resources_dir


def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "captionist.svg"))
