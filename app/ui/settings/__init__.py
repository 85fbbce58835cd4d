"""The Settings dialog and its parts."""

from app.ui.settings.dialog import SettingsDialog
from app.ui.settings.vocabulary import VocabularyList

__all__ = ["SettingsDialog", "VocabularyList"]
