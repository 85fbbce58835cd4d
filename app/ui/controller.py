"""The desktop app's adapter: window signals become calls on the session core
(app/services/session/), and the core's events update the transcript model, the overlay and
the window. It decides nothing about the session itself.

Slots stay thin: each starts one coroutine through `spawn`, which keeps a reference to the
task and sends any unexpected exception to the excepthook instead of losing it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.audio.base import AudioSource
from app.audio.live import find_live_source
from app.audio.replay import FileReplaySource
from app.errors import AudioDeviceError, CaptionError
from app.services.caption_events import CaptionState
from app.services.session import CurrentSession, EngineChoice, EngineHost
from app.services.settings import AppSettings, OverlayLook
from app.ui.bridge import SessionBridge
from app.ui.library import LibraryController
from app.ui.main_window import MainWindow
from app.ui.overlay.caption_overlay import CaptionOverlay
from app.ui.overlay.placement import place_overlay, save_overlay_geometry
from app.ui.session_view import SessionView
from app.ui.settings_store import SettingsStore
from app.ui.transcript.editing import TranscriptEditing
from app.ui.transcript.files import TranscriptFiles
from app.ui.transcript.model import TranscriptModel
from app.ui.transcript.naming import SpeakerNaming

log = logging.getLogger(__name__)


class AppController(QObject):
    quit_finished = Signal()

    def __init__(
        self,
        window: MainWindow,
        overlay: CaptionOverlay,
        model: TranscriptModel,
        store: SettingsStore,
        *,
        journal_dir: Path | None = None,
        engines: EngineHost[Any] | None = None,
    ) -> None:
        super().__init__()
        self.window, self.overlay, self.model, self.store = window, overlay, model, store
        self.settings = store.load_app()
        self.bridge = SessionBridge(self)
        self.session = CurrentSession(
            self.bridge.listener(), journal_dir=journal_dir, engines=engines
        )
        self.tasks: set[asyncio.Task[Any]] = set()
        self._quitting = False
        self.naming = SpeakerNaming(window, self.session)
        self.editing = TranscriptEditing(window, self.session)  # answers the window's Edit line…
        self.files = TranscriptFiles(
            window, self.session, lambda: self.settings, store, self.status
        )
        self.library = LibraryController(self, self)  # File → Library…, and Keep sessions
        self.view = SessionView(self.bridge, self.session, window, overlay, model)
        self._connect_window()
        combo = window.source_combo
        combo.setCurrentIndex(max(0, combo.findData(self.settings.source)))
        window.overlay_action.setChecked(self.settings.show_overlay)
        window.click_action.setChecked(overlay.click_through)
        window.set_running(self.session.state, "loading the speech model…")

    def _connect_window(self) -> None:
        w, s = self.window, self.session
        w.start_requested.connect(lambda kind: self.spawn(self.start_live(kind)))
        w.file_requested.connect(lambda path: self.spawn(self.run(FileReplaySource(path))))
        w.pause_requested.connect(s.toggle_pause)
        w.stop_requested.connect(s.stop)
        w.export_requested.connect(self.files.export_dialog)
        w.restore_requested.connect(s.restore_last)
        w.library_requested.connect(self.library.show)
        w.overlay_toggled.connect(self.show_overlay)
        w.click_through_toggled.connect(self.set_click_through)
        w.quit_requested.connect(self.quit)
        w.settings_requested.connect(self.settings_dialog)
        w.about_requested.connect(self.about)
        w.rename_requested.connect(self.naming.ask)
        self.overlay.geometry_changed.connect(self._save_overlay_geometry)
        self.overlay.share_hiding.reported.connect(lambda text: w.statusBar().showMessage(text))

    def status(self, text: str, milliseconds: int = 0) -> None:
        self.window.statusBar().showMessage(text, milliseconds)

    # -- the engine and captioning --------------------------------------------------------
    def server_ready(self, url: str, token: str, engine: str, note: str | None = None) -> None:
        self.session.use_server(url, token, engine, note)

    async def engine_ready(self) -> bool:
        return await self.session.engine_ready(
            EngineChoice(self.settings.engine, self.settings.model)
        )

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        exc = None if task.cancelled() else task.exception()
        if exc is None or isinstance(exc, CaptionError):
            return  # a CaptionError is already shown as the session's error state
        sys.excepthook(type(exc), exc, exc.__traceback__)

    async def start_live(self, kind: str) -> None:
        self.settings.source = kind
        self.store.save_app(self.settings)
        try:
            source = await find_live_source(
                kind, self.settings.microphone_id, self.settings.system_id
            )
        except AudioDeviceError as exc:
            self.window.set_running(CaptionState.ERROR, str(exc))
            return
        await self.run(source)

    async def run(self, source: AudioSource) -> None:
        await self.session.run(source, self.settings)

    # -- overlay --------------------------------------------------------------------------
    def show_overlay(self, visible: bool) -> None:
        self.settings.show_overlay = visible
        self.store.save_app(self.settings)
        self.overlay.setVisible(visible)
        self.window.overlay_action.setChecked(visible)

    def set_click_through(self, enabled: bool) -> None:
        self.overlay.set_click_through(enabled)
        self.window.click_action.setChecked(enabled)
        look = self.store.load_look()
        look.click_through = enabled
        self.store.save_look(look)

    def place_overlay(self, *, window_placed: bool = False) -> None:
        place_overlay(self.overlay, self.window, self.store, window_placed=window_placed)

    def _save_overlay_geometry(self) -> None:
        save_overlay_geometry(self.overlay, self.store)

    # -- dialogs --------------------------------------------------------------------------
    def settings_dialog(self) -> None:
        from app.ui.settings.edit import edit_settings

        engines, saved = self.session.engines, self._settings_saved
        self.spawn(edit_settings(self.window, self.settings, self.store, engines, saved))

    def _settings_saved(self, settings: AppSettings, look: OverlayLook) -> None:
        self.settings = settings
        self.overlay.apply_look(look)
        self.window.click_action.setChecked(look.click_through)
        self.library.settings_changed()

    def about(self) -> None:
        from app.ui.dialogs import AboutDialog

        engines = self.session.engines
        loaded = engines.engine if engines is not None else None
        AboutDialog(loaded.model_name if loaded else self.settings.model, self.window).exec()

    # -- quitting -------------------------------------------------------------------------
    def quit(self, *, ask: bool = True) -> None:
        """Quit gracefully; `ask`: lines the disk refused are not dropped without asking
        (False for SIGTERM, with nobody to ask: they are logged and the session stays open)."""
        if not self._quitting:
            self._quitting = True
            self.spawn(self._quit(ask))

    async def _quit(self, ask: bool) -> None:
        self.window.set_running(CaptionState.STOPPING, "saving the transcript…")
        await self.session.stop_and_wait()
        if ask and not await self.files.settle_unsaved("quit"):
            self._quitting = False
            self.window.set_running(self.session.state, "")
            return
        await self.session.close()
        self._save_overlay_geometry()
        self.store.save_window_state(self.window.saveGeometry())
        self.quit_finished.emit()
