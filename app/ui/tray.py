"""Tray icon: show/hide the overlay, start/stop, quit: captions without the main window."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.ui.assets import app_icon
from app.ui.main_window import MainWindow


class Tray(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.icon = QSystemTrayIcon(app_icon(), window)
        self.icon.setToolTip("Captionist")
        menu = QMenu()
        self.show_window = QAction("Show Captionist window", menu)
        self.show_window.triggered.connect(self._show_window)
        menu.addAction(self.show_window)
        menu.addSeparator()
        for action in (
            window.overlay_action,
            window.click_action,
            window.start_action,
            window.stop_action,
        ):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(window.quit_action)
        self.menu = menu
        self.icon.setContextMenu(menu)
        self.icon.activated.connect(self._activated)

    @property
    def available(self) -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        if self.available:
            self.icon.show()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self._show_window()

    def _show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
