"""What `captionist --selftest` checks of Qt itself, beyond the platform plugin loading.

The Linux bundle ships a filtered ICU data library (packaging/icu_data.py); collation is what
Qt reads from it (the file dialog sorts with QCollator), so a build that lost it must fail.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QCollator, QLocale

from app.ui.assets import app_icon


def single_instance_loads() -> bool:
    """Whether QtNetwork's local sockets are there: a bundle without them cannot start."""
    try:
        from PySide6.QtNetwork import QLocalServer
    except ImportError:
        return False
    return QLocalServer is not None


def icon_loads() -> bool:
    return not app_icon().isNull()


def collation_works() -> bool:
    """Whether QCollator sorts by language rules and numbers by value. Without ICU's collation
    data Qt falls back to code-point order ("Z" before "a", "10" before "2")."""
    collator = QCollator(QLocale("de_DE"))
    collator.setNumericMode(True)
    words = ["Zug", "take 10", "Äpfel", "take 2", "apfel"]
    ordered = sorted(words, key=functools.cmp_to_key(collator.compare))
    return ordered == ["apfel", "Äpfel", "take 2", "take 10", "Zug"]
