"""The library window's work: every call into the session library runs in a worker thread
(`asyncio.to_thread`; the library is thread-safe), so the Qt loop never waits on a journal, the
index or a search. A listing or search overtaken by a newer one is dropped, not shown.

The app's own current session is written by its journal: the library refuses to title it, so
it is titled through the session core (app/services/session/), and it is never deleted here.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.domain.library import session_start
from app.errors import AutosaveError, LibraryError, SearchUnavailable
from app.services.library import SearchHit, SessionLibrary, SessionSummary
from app.services.private_files import write_export
from app.services.session import CurrentSession, NotNow, continue_session
from app.services.settings import AppSettings
from app.ui.library.retention import Retention
from app.ui.library.viewer import SessionViewer
from app.ui.library.window import LibraryWindow
from app.ui.main_window import MainWindow
from app.ui.settings_store import SettingsStore
from app.ui.transcript.files import TranscriptFiles, ask_export_path, export_failed_box

log = logging.getLogger(__name__)

SEARCH_LIMIT = 200  # hits shown: an unlimited search of a common word takes far longer
LIBRARY_PROBLEMS = (LibraryError, OSError, sqlite3.Error)


class LibraryHost(Protocol):
    """What the library needs of the app (the AppController has it)."""

    window: MainWindow
    session: CurrentSession
    store: SettingsStore
    files: TranscriptFiles

    @property
    def settings(self) -> AppSettings: ...

    def spawn(self, job: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]: ...


class LibraryController(QObject):
    def __init__(self, app: LibraryHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self._library: SessionLibrary | None = None
        self.window: LibraryWindow | None = None
        self.viewers: dict[str, SessionViewer] = {}
        self.deleted: list[tuple[str, str]] = []  # (id, title), the last deleted last: Undo
        self.indexed = False  # a listing finished: the index exists and is current
        self._listing = 0  # the newest listing asked for: older answers are dropped
        self._searching = 0
        self.error_box: QMessageBox | None = None
        self.retention = Retention(
            app.window,
            lambda: self.library,
            lambda: app.settings,
            app.store,
            self.spare,
            self._spawn,
            lambda text: app.window.statusBar().showMessage(text, 15_000),
        )
        self.retention.start()

    @property
    def library(self) -> SessionLibrary:
        """Made on first use: the index is opened (or built) only when something needs it."""
        if self._library is None:
            self._library = SessionLibrary(self.app.session.journal_dir)
        return self._library

    def close(self) -> None:
        if self._library is not None:
            self._library.close()

    def _spawn(self, job: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        return self.app.spawn(job)

    def spare(self) -> set[str]:
        """Sessions the app holds open: never deleted by retention."""
        held = set(self.viewers)
        current = self.app.session.current_id
        if current is not None:
            held.add(current)
        return held

    def settings_changed(self) -> None:
        self.retention.check()

    # -- the window -----------------------------------------------------------------------
    def show(self) -> LibraryWindow:
        window = self.library_window()
        window.show()
        window.raise_()
        window.activateWindow()
        self._spawn(self.load())
        return window

    def library_window(self) -> LibraryWindow:
        """The Library window, made (and wired) at first use; not shown."""
        if self.window is None:
            w = self.window = LibraryWindow()
            w.open_requested.connect(lambda sid: self._spawn(self.open_session(sid)))
            w.hit_opened.connect(self._hit_opened)
            w.continue_requested.connect(lambda sid: self._spawn(self.continue_session(sid, w)))
            w.export_requested.connect(lambda sid: self.export_dialog(sid, w))
            w.delete_requested.connect(lambda sid: self._spawn(self.delete(sid)))
            w.undo_requested.connect(lambda: self._spawn(self.undo()))
            w.empty_trash_requested.connect(lambda: self._spawn(self.empty_trash()))
            w.search_requested.connect(lambda text: self._spawn(self.search(text)))
            w.refresh_requested.connect(lambda: self._spawn(self.load()))
            w.sessions_model.title_edited.connect(
                lambda sid, title: self._spawn(self.rename(sid, title))
            )
        return self.window

    def _hit_opened(self, hit: SearchHit) -> None:
        words = self.window.search.text().split() if self.window is not None else []
        self._spawn(self.open_session(hit.session_id, hit.final, words))

    async def load(self) -> list[SessionSummary]:
        """List every session (the first time, the index is built: "Indexing…" meanwhile)."""
        window = self.library_window()
        self._listing += 1
        listing = self._listing
        window.set_indexing(not self.indexed)
        try:
            sessions = await asyncio.to_thread(self.library.sessions)
        except LIBRARY_PROBLEMS as exc:
            log.warning("the library cannot be listed: %s", exc)
            window.set_indexing(False)
            window.notice(f"The saved sessions cannot be listed: {exc}")
            return []
        self.indexed = True
        if listing == self._listing:
            window.set_indexing(False)
            window.sessions_model.current_id = self.app.session.current_id
            window.show_sessions(sessions)
            if window.searching():
                self._spawn(self.search(window.search.text()))
        return sessions

    async def search(self, text: str) -> list[SearchHit]:
        window = self.library_window()
        self._searching += 1
        searching = self._searching
        try:
            hits = await asyncio.to_thread(self.library.search, text, SEARCH_LIMIT)
        except SearchUnavailable as exc:
            window.show_search_problem(exc.reason)
            return []
        except LIBRARY_PROBLEMS as exc:
            window.show_search_problem(str(exc))
            return []
        if searching == self._searching and window.searching():
            window.show_hits(hits, SEARCH_LIMIT, text)
        return hits

    # -- one session ------------------------------------------------------------------------
    async def open_session(
        self, session_id: str, final: int | None = None, words: Sequence[str] = ()
    ) -> SessionViewer | None:
        """Its transcript read-only in a window of its own (read afresh); the line showing
        final number `final` selected."""
        try:
            contents = await asyncio.to_thread(self.library.open, session_id)
        except LIBRARY_PROBLEMS as exc:
            self._notice(f"The session cannot be opened: {exc}", self.window)
            return None
        viewer = self.viewers.get(session_id)
        if viewer is not None:
            viewer.close()  # what it shows may be out of date: shown again, read afresh
        viewer = SessionViewer(contents, self._started(session_id))
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.destroyed.connect(lambda _=None, sid=session_id, v=viewer: self._forget(sid, v))
        viewer.continue_requested.connect(
            lambda sid, v=viewer: self._spawn(self.continue_session(sid, v))
        )
        viewer.export_requested.connect(lambda sid, v=viewer: self.export_dialog(sid, v))
        self.viewers[session_id] = viewer
        viewer.show()
        viewer.raise_()
        viewer.activateWindow()
        if final is not None:
            viewer.select_final(final, words)
        return viewer

    def _forget(self, session_id: str, viewer: SessionViewer) -> None:
        if self.viewers.get(session_id) is viewer:
            del self.viewers[session_id]

    def _started(self, session_id: str) -> datetime:
        if self.window is not None:
            row = self.window.sessions_model.row_of(session_id)
            summary = self.window.sessions_model.session_at(row) if row is not None else None
            if summary is not None:
                return summary.started
        return session_start(session_id) or datetime.now()

    async def rename(self, session_id: str, title: str) -> bool:
        """Title a session (empty: its first words again): an appended title record."""
        try:
            if self._is_current(session_id):
                await self.app.session.set_title(title)
            else:
                await asyncio.to_thread(self.library.rename, session_id, title)
            summary = await asyncio.to_thread(self.library.summary, session_id)
        except ValueError as exc:
            self._notice(f"Not renamed: {exc}", self.window)
            return False
        except AutosaveError as exc:  # the writer keeps the title and writes it when it can
            self._notice(f"The title is saved once the disk can take it: {exc.reason}", self.window)
            return False
        except LIBRARY_PROBLEMS as exc:
            self._notice(f"Not renamed: {getattr(exc, 'reason', exc)}", self.window)
            return False
        if self.window is not None:
            self.window.sessions_model.update(summary)
        self._notice(f"Renamed “{summary.title}”", self.window)
        return True

    async def delete(self, session_id: str) -> bool:
        """Into the library's trash; Undo brings it back."""
        window = self.library_window()
        if self._is_current(session_id):
            window.notice("This is the session in the main window: continue another one first.")
            return False
        row = window.sessions_model.row_of(session_id)
        summary = window.sessions_model.session_at(row) if row is not None else None
        title = summary.title if summary is not None else session_id
        try:
            await asyncio.to_thread(self.library.delete, session_id)
        except LIBRARY_PROBLEMS as exc:
            window.notice(f"Not deleted: {getattr(exc, 'reason', exc)}")
            return False
        self.deleted.append((session_id, title))
        window.remove_session(session_id)
        window.show_deleted(title)
        window.set_undo_available(True)
        if window.searching():
            await self.search(window.search.text())
        return True

    async def undo(self) -> bool:
        """Bring back the session deleted last."""
        if not self.deleted:
            return False
        window = self.library_window()
        session_id, title = self.deleted.pop()
        window.set_undo_available(bool(self.deleted))
        try:
            await asyncio.to_thread(self.library.undelete, session_id)
        except LIBRARY_PROBLEMS as exc:
            window.notice(f"“{title}” cannot be brought back: {getattr(exc, 'reason', exc)}")
            return False
        await self.load()
        window.select_session(session_id)
        window.notice(f"“{title}” is back")
        return True

    # -- export, continue -------------------------------------------------------------------
    def export_dialog(self, session_id: str, parent: QWidget) -> None:
        """The main window's Export dialog, for a saved session."""
        settings = self.app.settings
        default = Path(settings.export_folder) / f"{session_id}.{settings.export_format}"
        chosen = ask_export_path(parent, default)
        if chosen is not None:
            self._spawn(self.export_to(session_id, *chosen, parent=parent))

    async def export_to(
        self, session_id: str, path: Path, fmt: str, parent: QWidget | None = None
    ) -> bool:
        where = parent or self.window or self.app.window
        try:
            text = await asyncio.to_thread(self.library.export, session_id, fmt)
            data = self.library.directory.parent  # 0600 inside the data folder
            await asyncio.to_thread(write_export, path, text, data)
        except OSError as exc:  # a full disk or a read-only folder
            message = f"Could not write {path}: {exc.strerror or exc}"
            self.error_box = export_failed_box(where, message)
            return False
        except LIBRARY_PROBLEMS as exc:
            self._notice(f"Not exported: {exc}", where)
            return False
        settings = self.app.settings
        settings.export_folder, settings.export_format = str(path.parent), fmt
        self.app.store.save_app(settings)
        self._notice(f"Exported to {path}", where)
        return True

    async def continue_session(self, session_id: str, where: QWidget | None = None) -> bool:
        """Make it the app's current session (refused politely while captioning; lines the
        disk refused are not dropped without asking)."""
        if self.app.session.running:
            self._notice(str(NotNow()), where)  # before asking about unsaved lines
            return False
        if not await self.app.files.settle_unsaved("continue another session"):
            return False
        try:
            note = await continue_session(self.app.session, self.library, session_id)
        except NotNow as exc:
            self._notice(str(exc), where)
            return False
        except LIBRARY_PROBLEMS as exc:
            self._notice(f"Cannot continue it: {getattr(exc, 'reason', exc)}", where)
            return False
        main = self.app.window
        main.statusBar().showMessage(note, 10_000)
        main.show()
        main.raise_()
        main.activateWindow()
        if self.window is not None and self.window.isVisible():
            await self.load()  # which session is current has changed
        return True

    def _is_current(self, session_id: str) -> bool:
        return self.app.session.is_current(session_id, self.library.directory)

    def _notice(self, text: str, where: QWidget | None) -> None:
        """In the status bar of the window the user acted in."""
        if isinstance(where, LibraryWindow | SessionViewer):
            where.notice(text)
        else:
            self.app.window.statusBar().showMessage(text, 10_000)

    async def empty_trash(self) -> int:
        """Edit → Empty trash…: the sessions in the trash, removed for good once the user
        agrees (only those they were told about); how many."""
        window = self.library_window()
        try:
            trashed = await asyncio.to_thread(self.library.trashed)
            if not await window.confirm_empty_trash(len(trashed)):
                return 0
            removed = await asyncio.to_thread(self.library.purge_trash, trashed)
        except LIBRARY_PROBLEMS as exc:
            window.notice(f"The trash was not emptied: {getattr(exc, 'reason', exc)}")
            return 0
        self.deleted.clear()  # nothing left to undo
        window.trash_emptied(removed)
        return removed
