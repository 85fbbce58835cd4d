"""The overlay's first place: low and centred, and the main window moved clear of it."""

from __future__ import annotations

from app.ui.overlay.placement import BOTTOM_MARGIN, GAP, MIN_WINDOW_H, OVERLAY_H, first_places


def overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_the_overlay_is_low_and_centred_and_a_window_clear_of_it_stays_put() -> None:
    overlay, window = first_places((0, 0, 1920, 1080), (100, 100, 760, 560))
    assert overlay == (510, 1080 - BOTTOM_MARGIN - OVERLAY_H, 900, OVERLAY_H)
    assert window == (100, 100, 760, 560)


def test_a_window_the_overlay_would_cover_is_moved_up_clear_of_it() -> None:
    area = (0, 0, 1280, 720)
    overlay, window = first_places(area, (260, 80, 760, 560))  # centred: it would be covered
    assert not overlaps(overlay, window)
    assert window[1] + window[3] == overlay[1] - GAP and window[1] >= 0
    assert window[3] >= MIN_WINDOW_H


def test_on_a_short_screen_the_window_is_shortened_to_the_room_above() -> None:
    overlay, window = first_places((0, 0, 1024, 480), (0, 0, 760, 560))
    assert not overlaps(overlay, window) and window[1] == 0 and window[3] > 0


def test_a_window_the_user_placed_stays_where_they_left_it(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QSettings

    from app.ui.main_window import MainWindow
    from app.ui.overlay.caption_overlay import CaptionOverlay
    from app.ui.overlay.placement import place_overlay
    from app.ui.settings_store import SettingsStore
    from app.ui.transcript.model import TranscriptModel

    store = SettingsStore(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window, overlay = MainWindow(TranscriptModel()), CaptionOverlay(store.load_look())
    qtbot.addWidget(window)
    qtbot.addWidget(overlay)
    window.setGeometry(10, 25, 300, 150)  # as restoreGeometry puts it: clear of the overlay
    place_overlay(overlay, window, store, window_placed=True)
    assert (window.x(), window.y()) == (10, 25)
    place_overlay(overlay, window, store, window_placed=False)  # a first start: placed anew
    assert (window.x(), window.y()) != (10, 25)
