"""Issue 14 item 3, the overlay's look (offscreen): limits, colour presets and their contrast,
the text outline, fade after silence or never, remembered and applied when Settings is saved."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_API", "pyside6")
from PySide6.QtCore import QSettings

from app.ui.settings import SettingsDialog
from app.ui.settings_store import AppSettings, OverlayLook, SettingsStore


@pytest.fixture
def store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def reread(store: SettingsStore) -> SettingsStore:
    return SettingsStore(QSettings(store.qsettings.fileName(), QSettings.Format.IniFormat))


def edit_by_hand(store: SettingsStore, **values: str) -> SettingsStore:
    """The settings file as a user might leave it after editing it in a text editor."""
    store.save_look(OverlayLook())
    store.qsettings.beginGroup("overlay")
    for key, value in values.items():
        store.qsettings.setValue(key, value)
    store.qsettings.endGroup()
    store.qsettings.sync()
    return reread(store)


# -- limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "written", "loaded"),
    [
        ("lines", "9", 5),
        ("lines", "0", 1),
        ("font_size", "4", 12),
        ("font_size", "500", 72),
        ("fade_after_s", "-3", 0.0),
        ("fade_after_s", "nan", OverlayLook().fade_after_s),
        ("fade_after_s", "9000", 60.0),
        ("background_opacity", "7", 1.0),
        ("background_opacity", "-1", 0.0),
        ("text_color", "banana", OverlayLook().text_color),
        ("interim_color", "#12345", OverlayLook().interim_color),
        ("background_color", "#A0B0C0", "#a0b0c0"),
    ],
)
def test_a_hand_edited_settings_file_is_brought_within_the_limits(
    store: SettingsStore, key: str, written: str, loaded: object
) -> None:
    assert getattr(edit_by_hand(store, **{key: written}).load_look(), key) == loaded


def test_the_dialog_offers_1_to_5_lines_and_12_to_72_points(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(AppSettings(), OverlayLook(), [])
    qtbot.addWidget(dialog)
    assert (dialog.lines.minimum(), dialog.lines.maximum()) == (1, 5)
    assert (dialog.font_size.minimum(), dialog.font_size.maximum()) == (12, 72)
    dialog.lines.setValue(9)
    dialog.font_size.setValue(8)
    look = dialog.result_settings()[1]
    assert (look.lines, look.font_size) == (5, 12)


def test_every_overlay_setting_is_remembered(store: SettingsStore) -> None:
    look = OverlayLook(
        font_size=72,
        text_color="#ffff00",
        interim_color="#c8ccd2",
        background_color="#000000",
        background_opacity=0.9,
        lines=5,
        fade_after_s=0.0,
        click_through=True,
        outline=True,
    )
    store.save_look(look)
    assert reread(store).load_look() == look
