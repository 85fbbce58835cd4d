"""Where the caption overlay goes: where the user left it on this screen, or, the first time,
low and centred like television captions, with the main window moved clear of it (a first
start that hides the app's own window behind its captions looks broken)."""

from __future__ import annotations

from PySide6.QtCore import QRect

from app.ui.main_window import MainWindow
from app.ui.overlay.caption_overlay import CaptionOverlay
from app.ui.settings_store import SettingsStore

OVERLAY_MAX_W = 900
OVERLAY_H = 130
BOTTOM_MARGIN = 40  # above a taskbar that `availableGeometry` does not know of
GAP = 12  # between the main window and the overlay
MIN_WINDOW_H = 320  # shorter than this, the main window goes beside the overlay's row instead
TITLE_BAR_ALLOWANCE = 40  # a frame's height before the window manager has drawn one

Rect = tuple[int, int, int, int]  # x, y, width, height


def first_places(area: Rect, window: Rect) -> tuple[Rect, Rect]:
    """The overlay's first place in the screen's `area`, and the main window's frame moved
    (and shortened, down to MIN_WINDOW_H) so that the two do not overlap."""
    ax, ay, aw, ah = area
    width = min(OVERLAY_MAX_W, int(aw * 0.8))
    overlay = (ax + (aw - width) // 2, ay + ah - BOTTOM_MARGIN - OVERLAY_H, width, OVERLAY_H)
    wx, wy, ww, wh = window
    if not _overlap((wx, wy, ww, wh), overlay):
        return overlay, window
    room = overlay[1] - GAP - ay  # the height above the overlay
    if room >= MIN_WINDOW_H:
        height = min(wh, room)
        return overlay, (wx, overlay[1] - GAP - height, ww, height)
    # A short screen: the overlay keeps its row, the window is shortened to what is left.
    return overlay, (wx, ay, ww, max(room, 1))


def _overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def place_overlay(
    overlay: CaptionOverlay, window: MainWindow, store: SettingsStore, *, window_placed: bool
) -> None:
    """Call before the main window is shown: a window manager keeps the place a program asks
    for before its window maps, and would centre it over the overlay otherwise.
    `window_placed`: the window has the place the user left it in (it moves only if the
    overlay would cover it)."""
    saved = store.overlay_geometry(overlay.screen_key())
    if saved:
        overlay.apply_state(saved)
        return
    screen = window.screen() or overlay.screen()
    if screen is None:
        return
    area = screen.availableGeometry()
    if window.isVisible() or window_placed:
        frame = window.frameGeometry()
        extra_h = frame.height() - window.height() if window.isVisible() else TITLE_BAR_ALLOWANCE
        rect = (
            frame.x(),
            frame.y(),
            frame.width(),
            frame.height() + (0 if window.isVisible() else extra_h),
        )
    else:  # not decorated yet: centred, as a window manager would, with room for a title bar
        extra_h = TITLE_BAR_ALLOWANCE
        width, height = window.width(), window.height() + extra_h
        x = area.x() + (area.width() - width) // 2
        rect = (x, area.y() + (area.height() - height) // 2, width, height)
    (ox, oy, ow, oh), (wx, wy, ww, wh) = first_places(
        (area.x(), area.y(), area.width(), area.height()), rect
    )
    overlay.setGeometry(QRect(ox, oy, ow, oh))
    if (wx, wy, ww, wh) != rect or not (window.isVisible() or window_placed):
        window.move(wx, wy)
        # The frame (title bar, borders) is outside the widget's own height.
        window.resize(window.width(), max(1, wh - extra_h))


def save_overlay_geometry(overlay: CaptionOverlay, store: SettingsStore) -> None:
    if overlay.isVisible():
        store.save_overlay_geometry(overlay.screen_key(), overlay.dump_state())
