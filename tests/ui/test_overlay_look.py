"""Issue 14 item 3, the overlay's look (offscreen): limits, colour presets and their contrast,
the text outline, fade after silence or never, remembered and applied when Settings is saved."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import keyring
import pytest

os.environ.setdefault("QT_API", "pyside6")
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QImage

from app.credentials import ENV_VAR
from app.domain.transcript import Segment
from app.services.settings import AppSettings, OverlayLook
from app.ui.controller import AppController
from app.ui.overlay.caption_overlay import CaptionOverlay
from app.ui.overlay.presets import (
    CUSTOM,
    PRESETS,
    ColourPreset,
    composite,
    contrast_ratio,
    outline_colour,
    preset_name,
    with_preset,
)
from app.ui.settings import SettingsDialog
from app.ui.settings_store import SettingsStore
from tests.fake_keyring import MemoryKeyring
from tests.waiting import until


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


def final(text: str, start: float = 0.0) -> Segment:
    return Segment(text, start, start + 1.0, "Others", True, True)


def words(overlay: CaptionOverlay) -> list[str]:
    return [token.text for token in overlay.tokens()]


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


# -- colour presets -------------------------------------------------------------------------


def test_the_contrast_ratio_is_wcags() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.005)  # WCAG's own
    assert contrast_ratio("#336699", "#336699") == 1.0
    assert composite("#000000", "#ffffff", 0.5) == "#808080"


def test_the_presets_and_the_default_look() -> None:
    names = [preset.name for preset in PRESETS]
    assert names == ["White on black", "Yellow on black", "Black on white"]
    assert preset_name(OverlayLook()) == "White on black"
    assert preset_name(OverlayLook(text_color="#123456")) == CUSTOM


@pytest.mark.parametrize("preset", PRESETS, ids=lambda preset: preset.name)
def test_every_preset_is_readable_and_keeps_interims_apart_from_finals(
    preset: ColourPreset,
) -> None:
    assert contrast_ratio(preset.text, preset.background) >= 4.5
    assert contrast_ratio(preset.interim, preset.background) >= 4.5
    assert contrast_ratio(preset.text, preset.interim) >= 1.5  # and interims are in italics
    # The panel is translucent: over a white or a black desktop, finals stay readable.
    for desktop in ("#ffffff", "#000000"):
        seen = composite(preset.background, desktop, OverlayLook().background_opacity)
        assert contrast_ratio(preset.text, seen) >= 4.5, desktop


def colours(look: OverlayLook) -> tuple[str, str, str]:
    return look.text_color, look.interim_color, look.background_color


def test_a_preset_chosen_in_settings_sets_the_three_colours_and_others_show_as_custom(
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    dialog = SettingsDialog(AppSettings(), OverlayLook(), [])
    qtbot.addWidget(dialog)
    combo = dialog.preset
    offered = [combo.itemText(i) for i in range(combo.count())]
    assert offered == ["White on black", "Yellow on black", "Black on white"]
    assert combo.currentText() == "White on black"
    yellow = PRESETS[1]
    combo.setCurrentIndex(combo.findText(yellow.name))
    assert colours(dialog.result_settings()[1]) == (yellow.text, yellow.interim, yellow.background)
    assert dialog.text_colour.text() == yellow.text  # the buttons show the preset's colours
    dialog.background_colour.set_colour("#202020")
    assert combo.currentText() == CUSTOM
    assert colours(dialog.result_settings()[1]) == (yellow.text, yellow.interim, "#202020")
    combo.setCurrentIndex(combo.findText("Black on white"))
    assert combo.findText(CUSTOM) == -1  # only there while the colours are no preset's
    assert preset_name(dialog.result_settings()[1]) == "Black on white"
    again = SettingsDialog(AppSettings(), OverlayLook(text_color="#ff00ff"), [])
    qtbot.addWidget(again)
    assert again.preset.currentText() == CUSTOM


# -- the outline ----------------------------------------------------------------------------


def test_the_outline_is_the_opposite_of_the_text() -> None:
    assert outline_colour("#ffffff") == outline_colour("#ffff00") == "#000000"
    assert outline_colour("#000000") == outline_colour("#3d5a80") == "#ffffff"


def opaque_pixels(image: QImage, colour: str) -> set[tuple[int, int]]:
    """Where `image` shows `colour` (within a small distance), fully painted."""
    target = QColor(colour)
    found = set()
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            distance = (
                abs(pixel.red() - target.red())
                + abs(pixel.green() - target.green())
                + abs(pixel.blue() - target.blue())
            )
            if pixel.alpha() > 230 and distance < 60:
                found.add((x, y))
    return found


def near(point: tuple[int, int], points: set[tuple[int, int]], reach: int) -> bool:
    x, y = point
    return any(
        (x + dx, y + dy) in points
        for dx in range(-reach, reach + 1)
        for dy in range(-reach, reach + 1)
    )


@pytest.mark.parametrize("preset", PRESETS, ids=lambda preset: preset.name)
def test_the_outline_is_drawn_around_the_letters_only_when_on(
    qtbot,  # type: ignore[no-untyped-def]
    preset: ColourPreset,
) -> None:
    # A clear panel: whatever is painted in the outline's colour is the outline.
    look = with_preset(OverlayLook(font_size=36, background_opacity=0.0), preset.name)
    overlay = CaptionOverlay(look)
    qtbot.addWidget(overlay)
    overlay.resize(420, 90)
    overlay.add_final(final("Hi all"))
    edge = outline_colour(preset.text)
    plain = overlay.grab().toImage()
    assert len(opaque_pixels(plain, preset.text)) > 200
    assert opaque_pixels(plain, edge) == set()
    overlay.apply_look(
        with_preset(OverlayLook(font_size=36, background_opacity=0.0, outline=True), preset.name)
    )
    outlined = overlay.grab().toImage()
    letters, outline = opaque_pixels(outlined, preset.text), opaque_pixels(outlined, edge)
    assert len(outline) > 200
    assert all(near(point, letters, 4) for point in outline)  # around the letters, not elsewhere
    assert len(letters) > 0.6 * len(opaque_pixels(plain, preset.text))  # not painted over


def test_the_outline_and_never_fading_are_chosen_in_settings(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(AppSettings(), OverlayLook(), [])
    qtbot.addWidget(dialog)
    assert not dialog.outline.isChecked()
    assert dialog.fade.specialValueText() == "Never" and dialog.fade.minimum() == 0.0
    dialog.outline.setChecked(True)
    dialog.fade.setValue(dialog.fade.minimum())
    assert dialog.fade.text() == "Never"
    look = dialog.result_settings()[1]
    assert look.outline and look.fade_after_s == 0.0
    again = SettingsDialog(AppSettings(), look, [])
    qtbot.addWidget(again)
    assert again.outline.isChecked() and again.fade.text() == "Never"


# -- fading after silence -------------------------------------------------------------------


def shown(qtbot, look: OverlayLook, text: str = "hello") -> CaptionOverlay:  # type: ignore[no-untyped-def]
    overlay = CaptionOverlay(look)
    qtbot.addWidget(overlay)
    overlay.show()
    overlay.add_final(final(text))
    return overlay


def test_never_keeps_the_captions_while_a_short_fade_clears_them(qtbot) -> None:  # type: ignore[no-untyped-def]
    never = shown(qtbot, OverlayLook(fade_after_s=0.0))
    fading = shown(qtbot, OverlayLook(fade_after_s=0.2))
    qtbot.waitUntil(lambda: not fading.tokens(), timeout=3000)
    assert words(never) == ["hello"] and never.windowOpacity() == 1.0


def test_a_new_fade_applies_to_the_captions_already_shown(qtbot) -> None:  # type: ignore[no-untyped-def]
    was_never = shown(qtbot, OverlayLook(fade_after_s=0.0))
    was_fading = shown(qtbot, OverlayLook(fade_after_s=0.2))
    was_fading.apply_look(OverlayLook(fade_after_s=0.0))
    was_never.apply_look(OverlayLook(fade_after_s=0.2))
    qtbot.waitUntil(lambda: not was_never.tokens(), timeout=3000)
    fading = shown(qtbot, OverlayLook(fade_after_s=0.2))  # a clock: well past its 0.2 s
    qtbot.waitUntil(lambda: not fading.tokens(), timeout=3000)
    assert words(was_fading) == ["hello"] and was_fading.windowOpacity() == 1.0


# -- Settings saved: remembered and applied at once -----------------------------------------


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv(ENV_VAR, raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_the_look_saved_in_settings_is_remembered_and_applied_to_the_overlay_at_once(
    controller: AppController,
    qloop: asyncio.AbstractEventLoop,
    memory_keyring: MemoryKeyring,
) -> None:
    overlay = controller.overlay
    controller.store.save_look(OverlayLook(fade_after_s=30.0))
    overlay.apply_look(controller.store.load_look())
    overlay.show()
    overlay.add_final(final("words before the change"))

    async def scenario() -> SettingsDialog:
        asyncio.get_running_loop().call_soon(controller.settings_dialog)

        def open_dialog() -> list[SettingsDialog]:
            return [d for d in controller.window.findChildren(SettingsDialog) if d.isVisible()]

        (dialog,) = await until(open_dialog, 10, "the settings dialog")
        dialog.preset.setCurrentText("Black on white")
        dialog.outline.setChecked(True)
        dialog.lines.setValue(4)
        dialog.font_size.setValue(40)
        dialog.fade.setValue(0.3)
        dialog.accept()
        await until(lambda: not controller.tasks, 10, "the settings task to end")
        return dialog

    qloop.run_until_complete(asyncio.wait_for(scenario(), 30))
    expected = replace(
        with_preset(OverlayLook(), "Black on white"),
        outline=True,
        lines=4,
        font_size=40,
        fade_after_s=0.3,
    )
    assert overlay.look == expected
    assert reread(controller.store).load_look() == expected
    assert overlay.caption_font().pointSize() == 40
    # The new fade applies to the words already up, not only to the next ones.
    qloop.run_until_complete(until(lambda: not overlay.tokens(), 5, "the captions to fade"))
