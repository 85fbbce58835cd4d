"""Reading back on the overlay from the keyboard, and from the main window's View menu.

The overlay never takes the keyboard focus (it would take it from the call being captioned),
so the keys belong to the main window: they work while it is the active window. Esc returns
to live only while the overlay is read back, so it is free for everything else the rest of
the time.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from app.ui.main_window import MainWindow
from app.ui.overlay.caption_overlay import CaptionOverlay

LIVE_KEY = QKeySequence("Ctrl+Shift+End")


class OverlayKeys(QObject):
    def __init__(self, window: MainWindow, overlay: CaptionOverlay) -> None:
        super().__init__(window)
        self.back = self._action(
            window, "Scroll captions back", "Ctrl+Shift+Up", overlay.scroll_back
        )
        self.forward = self._action(
            window, "Scroll captions forward", "Ctrl+Shift+Down", overlay.scroll_forward
        )
        self.live = self._action(window, "Captions back to live", "Ctrl+Shift+End", overlay.go_live)
        actions = [self.back, self.forward, self.live]
        window.addActions(actions)
        overlay.addActions(actions)  # if a window manager ever gives it the focus
        window.view_menu.addSeparator()
        window.view_menu.addActions(actions)
        overlay.scrolled.connect(self._reading)
        self._reading(overlay.lines_back)

    @staticmethod
    def _action(window: MainWindow, text: str, key: str, slot: Callable[[], None]) -> QAction:
        action = QAction(text, window)
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{text} ({key})")
        action.triggered.connect(slot)
        return action

    def _reading(self, lines_back: int) -> None:
        reading = lines_back > 0
        self.forward.setEnabled(reading)
        self.live.setEnabled(reading)
        escape = QKeySequence(Qt.Key.Key_Escape)
        self.live.setShortcuts([LIVE_KEY, escape] if reading else [LIVE_KEY])
