"""Glue between the Qt widgets and the asyncio services (the UI side of the composition root).

Slots stay thin: each starts one coroutine through `_spawn`, which keeps a reference to the
task and sends any unexpected exception to the excepthook instead of losing it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from app.audio.base import AudioSource
from app.audio.live import find_live_source
from app.audio.replay import FileReplaySource
from app.client.lifecycle import LinkConfig
from app.domain.speakers import numbers_used
from app.domain.transcript import Segment, next_run_start
from app.errors import AudioDeviceError, CaptionError
from app.protocol.messages import Warning, live_engine_of
from app.services.caption_events import AUTOSAVE_FAILED, AUTOSAVE_RESUMED
from app.services.captioning import CaptionService
from app.services.journal import Journal
from app.services.settings import AppSettings, OverlayLook
from app.ui.bridge import CaptionBridge
from app.ui.engine_host import EngineChoice, EngineHost
from app.ui.library import LibraryController
from app.ui.main_window import MainWindow
from app.ui.overlay.caption_overlay import CaptionOverlay
from app.ui.overlay.placement import place_overlay, save_overlay_geometry
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
        self.journal_dir = journal_dir
        self.engines = engines  # None: the server is given through server_ready (tests, bench)
        self._starting = False
        self.server_url: str | None = None
        self.token: str | None = None
        self.service: CaptionService | None = None
        self.journal: Journal | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.service_link = LinkConfig()  # reconnect, ring buffer and keepalive settings
        self._quitting = False
        self.bridge = CaptionBridge()
        self.bridge.state_changed.connect(self._state_changed)
        self.bridge.warning.connect(self._warning)
        self.bridge.interim.connect(self._interim)
        self.bridge.final.connect(self._final)
        self.naming = SpeakerNaming(window, overlay, self._journal)
        self.editing = TranscriptEditing(window, self._journal)  # answers the window's Edit line…
        self.files = TranscriptFiles(self)
        self.export_to, self.restore = self.files.export_to, self.files.restore
        self.restore_last, self.offer_restore = self.files.restore_last, self.files.offer_restore
        self.library = LibraryController(self)  # File → Library…, and Keep sessions
        self._meter = QTimer(self)
        self._meter.setInterval(100)
        self._meter.timeout.connect(self._update_meter)
        self._connect_window()
        index = window.source_combo.findData(self.settings.source)
        window.source_combo.setCurrentIndex(max(0, index))
        window.overlay_action.setChecked(self.settings.show_overlay)
        window.click_action.setChecked(overlay.click_through)
        window.set_running("IDLE", "loading the speech model…")
        window.start_action.setEnabled(False)
        window.open_action.setEnabled(False)

    def _connect_window(self) -> None:
        w = self.window
        w.start_requested.connect(lambda kind: self._spawn(self.start_live(kind)))
        w.file_requested.connect(lambda path: self._spawn(self.start_file(path)))
        w.pause_requested.connect(self.toggle_pause)
        w.stop_requested.connect(self.stop)
        w.export_requested.connect(self.files.export_dialog)
        w.restore_requested.connect(self.files.restore_last)
        w.library_requested.connect(self.library.show)
        w.overlay_toggled.connect(self.show_overlay)
        w.click_through_toggled.connect(self.set_click_through)
        w.quit_requested.connect(self.quit)
        w.settings_requested.connect(self.settings_dialog)
        w.about_requested.connect(self.about)
        w.rename_requested.connect(self.naming.ask)
        self.overlay.geometry_changed.connect(self._save_overlay_geometry)
        self.overlay.share_hiding.reported.connect(lambda text: w.statusBar().showMessage(text))

    # -- lifecycle ------------------------------------------------------------------------
    def server_ready(self, url: str, token: str, engine: str, note: str | None = None) -> None:
        self.server_url, self.token = url, token
        self.window.set_engine(engine, note)
        self.window.set_running("IDLE", "")

    def server_failed(self, reason: str) -> None:
        self.window.set_running("ERROR", f"the speech engine did not start: {reason}")

    async def engine_ready(self) -> bool:
        """Serve the engine and model Settings ask for, loading them if they changed (in a
        worker thread, "Loading model…" shown). A failed load is shown; the old engine stays."""
        host = self.engines
        if host is None:
            return self.server_url is not None
        wanted = EngineChoice(self.settings.engine, self.settings.model)
        if host.needs_switch(wanted):
            first = host.engine is None
            self.window.set_running("LOADING", "" if first else wanted.model)
            try:
                await host.switch(wanted)
            except Exception as exc:  # any loader failure: shown, the app stays usable
                log.exception("engine failed to load (%s %s)", wanted.engine, wanted.model)
                if first:
                    self.server_failed(str(exc))
                else:
                    self.window.set_running(
                        "ERROR",
                        f"could not load {wanted.model}: {exc}; still using {host.label}",
                    )
                return False
        if host.url is None or host.token is None:
            return False  # the app quit while the model loaded
        self.server_ready(host.url, host.token, host.label, host.note)
        return True

    @property
    def starting(self) -> bool:
        """A Start is under way (the engine may be loading), before the service runs."""
        return self._starting

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        exc = None if task.cancelled() else task.exception()
        if exc is None or isinstance(exc, CaptionError):
            return  # a CaptionError is already shown as the service's error state
        sys.excepthook(type(exc), exc, exc.__traceback__)

    # -- captioning -----------------------------------------------------------------------
    async def start_live(self, kind: str) -> None:
        self.settings.source = kind
        self.store.save_app(self.settings)
        try:
            source = await find_live_source(
                kind, self.settings.microphone_id, self.settings.system_id
            )
        except AudioDeviceError as exc:
            self.window.set_running("ERROR", str(exc))
            return
        await self._run(source)

    async def start_file(self, path: Path) -> None:
        await self._run(FileReplaySource(path))

    async def _run(self, source: AudioSource) -> None:
        if self._starting or (self.service is not None and self.service.running):
            return
        self._starting = True
        try:
            ready = await self.engine_ready()
        finally:
            self._starting = False
        if not ready or self.server_url is None:
            return
        self.service = CaptionService(
            self.server_url,
            token=self.token,
            journal=self._journal(),
            listener=self.bridge.listener(),
            link=self.service_link,
            language=self.settings.language,
            keyterms=self.settings.vocabulary,
            time_offset_s=next_run_start(self.model.segments),
            diarize=self.settings.label_speakers,
            speakers_before=numbers_used(self.model.segments),
            max_speakers=self.settings.max_speakers,
        )
        self._meter.start()
        self._run_task = asyncio.current_task()
        try:
            await self.service.run(source)
        except CaptionError as exc:
            log.warning("captioning stopped: %s", exc)
        finally:
            self._meter.stop()
            self.window.set_level(0.0)
            self.files.run_ended()

    def _journal(self) -> Journal:
        """The session's journal (one per app session, across its runs and restores)."""
        if self.journal is None or self.journal.closed:
            self.journal = Journal.start(self.journal_dir)
        return self.journal

    def toggle_pause(self) -> None:
        if self.service is None:
            return
        paused = self.service.state.name == "PAUSED"
        (self.service.resume if paused else self.service.pause)()

    def stop(self) -> None:
        if self.service is not None:
            self.service.request_stop()

    async def stop_and_wait(self) -> None:
        self.stop()
        task = self._run_task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=15)

    # -- what the service reports ---------------------------------------------------------
    def _state_changed(self, state: str, detail: str) -> None:
        self.window.set_running(state, detail)
        if state in ("IDLE", "ERROR"):
            self.overlay.set_interim(Segment("", 0, 0, "", False))

    def _warning(self, code: str, message: str) -> None:
        """Server warnings (a provider switch changes which engine is live) and the app's own."""
        log.info("server warning %s: %s", code, message)
        if code in (AUTOSAVE_FAILED, AUTOSAVE_RESUMED):
            self.window.set_autosave_problem(message if code == AUTOSAVE_FAILED else None)
        live = live_engine_of(Warning(code, message))
        if live is not None:
            self.window.set_engine(live)
        self.window.statusBar().showMessage(message, 10_000)

    def _interim(self, segment: Segment) -> None:
        self.overlay.set_interim(segment)
        shown = self.naming.names.shown(segment.source)
        label = f"{shown}: " if shown and segment.text else ""
        self.window.set_interim(label + segment.text)

    def _final(self, segment: Segment) -> None:
        self.model.append(segment)
        self.overlay.add_final(segment)
        self.window.set_interim("")
        # DEBUG, not INFO: transcript text stays out of the default log file. The X11 test
        # compares these lines with the journal after a SIGKILL.
        if log.isEnabledFor(logging.DEBUG):
            record = {key: getattr(segment, key) for key in ("text", "start", "end", "source")}
            log.debug("final shown: %s", json.dumps(record, ensure_ascii=False))

    def _update_meter(self) -> None:
        service = self.service
        if service is None or service.source is None:
            return
        self.window.set_level(float(getattr(service.source, "level", 0.0)))
        self.window.set_latency(service.figures.latency_s)
        self.window.set_echoes_hidden(service.figures.echoes_hidden)
        self.window.set_echo_cancelling(service.figures.echo_cancelling)

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

    # -- transcript files (export, restore): see TranscriptFiles -----------------------------
    @property
    def last_error(self) -> str:
        return self.files.last_error

    @property
    def restore_box(self) -> QMessageBox | None:
        return self.files.restore_box

    # -- dialogs --------------------------------------------------------------------------
    def settings_dialog(self) -> None:
        from app.ui.settings.edit import edit_settings

        saved = self._settings_saved
        self._spawn(edit_settings(self.window, self.settings, self.store, self.engines, saved))

    def _settings_saved(self, settings: AppSettings, look: OverlayLook) -> None:
        self.settings = settings
        self.overlay.apply_look(look)
        self.window.click_action.setChecked(look.click_through)
        self.library.settings_changed()

    def about(self) -> None:
        from app.ui.dialogs import AboutDialog

        loaded = self.engines.engine if self.engines is not None else None
        AboutDialog(loaded.model_name if loaded else self.settings.model, self.window).exec()

    # -- quitting -------------------------------------------------------------------------
    def quit(self) -> None:
        if not self._quitting:
            self._quitting = True
            self._spawn(self._quit())

    async def _quit(self) -> None:
        self.window.set_running("STOPPING", "saving the transcript…")
        await self.stop_and_wait()
        if self.journal is not None:
            await self.journal.aclose()
        self._save_overlay_geometry()
        self.store.save_window_state(self.window.saveGeometry())
        self.quit_finished.emit()
