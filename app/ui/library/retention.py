"""Keep sessions N days (Settings → Transcripts → Keep sessions): saved sessions that started
longer ago, and were not added to (nor continued) since, are deleted for good at start, once a
day, and when the setting changes; never one being recorded or read in a window (one a crash
left open is, like any other). Before the first time it would delete anything it asks, once,
saying what and how many; "Keep them" sets it back to Forever, so nothing is deleted that the
user did not agree to.

Expired sessions are deleted for good, not moved to the trash: the setting promises they are
gone. The trash is the user's own Delete, with Undo: at the same checks, whatever Keep sessions
says (Forever too), what was deleted more than TRASH_DAYS days ago is removed from it, and
never sooner."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Coroutine, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget

from app.errors import LibraryError
from app.services.library import TRASH_DAYS, SessionLibrary, SessionSummary
from app.services.library.files import SUFFIX
from app.services.settings import AppSettings
from app.ui.library.models import DATE_FORMAT
from app.ui.settings_store import SettingsStore

log = logging.getLogger(__name__)

DAY_MS = 24 * 3600 * 1000
LISTED = 5  # sessions named in the question; the rest are counted


def _sessions(count: int) -> str:
    return f"{count} saved session{'' if count == 1 else 's'}"


def question(expired: Sequence[SessionSummary], days: int) -> str:
    oldest_first = sorted(expired, key=lambda s: s.started)
    lines = [f"• {s.started.strftime(DATE_FORMAT)}: {s.title}" for s in oldest_first[:LISTED]]
    if len(expired) > LISTED:
        lines.append(f"… and {len(expired) - LISTED} more")
    return (
        f"Keep sessions is set to {days} days. {_sessions(len(expired))} started more than "
        f"{days} days ago and would be deleted for good, with their transcripts:\n\n"
        + "\n".join(lines)
        + "\n\nSessions open in Captionist are never deleted. Delete these now? "
        "(Keep them sets Keep sessions back to Forever.)"
    )


def added_to_since(
    library: SessionLibrary, sessions: Sequence[SessionSummary], days: int
) -> set[str]:
    """The sessions whose journal changed in the last `days` days: one continued recently is
    in use, however long ago it started (continuing touches the journal: `Journal(path)`,
    even before a line is added). (Blocking: a stat each.)"""
    cutoff = time.time() - days * 86400
    recent = set()
    for session in sessions:
        try:
            if (library.directory / f"{session.id}{SUFFIX}").stat().st_mtime > cutoff:
                recent.add(session.id)
        except OSError:
            continue  # gone meanwhile: nothing to keep
    return recent


def _not_empty(folder: Path) -> bool:
    """Has `folder` anything in it? (One directory read: the trash is small, or not there.)"""
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is not None
    except OSError:
        return False


class Retention(QObject):
    def __init__(
        self,
        parent: QWidget,
        library: Callable[[], SessionLibrary],
        settings: Callable[[], AppSettings],
        store: SettingsStore,
        spare: Callable[[], Collection[str]],
        spawn: Callable[[Coroutine[Any, Any, Any]], object],
        notify: Callable[[str], None],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._library, self._settings, self._store = library, settings, store
        self._spare, self._spawn, self._notify = spare, spawn, notify
        self.box: QMessageBox | None = None  # the question, while it waits (tests answer it)
        self.delete_button: QAbstractButton | None = None
        self.keep_button: QAbstractButton | None = None
        self._running = False
        self.timer = QTimer(self)
        self.timer.setInterval(DAY_MS)
        self.timer.timeout.connect(self.check)

    def start(self) -> None:
        """Check once the app's loop runs, then daily."""
        self.timer.start()
        QTimer.singleShot(0, self.check)

    def check(self) -> None:
        if self._running:
            return
        if self._settings().keep_sessions_days > 0 or _not_empty(self._library().trash_dir):
            self._spawn(self.apply())

    async def apply(self) -> list[str]:
        """Empty the trash of what was deleted more than TRASH_DAYS days ago, and delete what
        is older than the setting says (asking first, the first time); the ids deleted."""
        if self._running:
            return []
        self._running = True
        try:
            return await self._apply()
        except (LibraryError, OSError, sqlite3.Error) as exc:
            log.warning(
                "keeping sessions %s days failed: %s", self._settings().keep_sessions_days, exc
            )
            self._notify(f"Old sessions were not deleted: {exc}")
            return []
        finally:
            self._running = False

    async def _apply(self) -> list[str]:
        library = self._library()
        purged = await asyncio.to_thread(library.purge_expired_trash)
        if purged:
            log.info("removed %d sessions deleted %d days ago", len(purged), TRASH_DAYS)
        days = self._settings().keep_sessions_days
        if days <= 0:
            return purged
        expired = await asyncio.to_thread(library.expired, days, None, self._spare())
        recent = await asyncio.to_thread(added_to_since, library, expired, days)
        expired = [s for s in expired if s.id not in recent]
        if not expired:
            return purged
        if not self._settings().retention_confirmed:
            agreed = await self._ask(expired, days)
            settings = self._settings()
            if settings.keep_sessions_days != days:
                return purged  # changed while asking: the next check asks about the new one
            if not agreed:
                settings.keep_sessions_days = 0
                self._store.save_app(settings)
                self._notify("Every session is kept: Keep sessions is set back to Forever.")
                return purged
            settings.retention_confirmed = True
            self._store.save_app(settings)
        spare = {*self._spare(), *recent}
        removed = await asyncio.to_thread(library.apply_retention, days, None, spare)
        if removed:
            self._notify(f"Deleted {_sessions(len(removed))} older than {days} days.")
        return [*purged, *removed]

    async def _ask(self, expired: Sequence[SessionSummary], days: int) -> bool:
        """Non-modal: captioning goes on while the question waits."""
        box = QMessageBox(
            QMessageBox.Icon.Question, "Delete old sessions?", question(expired, days)
        )
        box.setParent(self._parent, box.windowFlags())
        delete = box.addButton(
            f"Delete {_sessions(len(expired))}", QMessageBox.ButtonRole.DestructiveRole
        )
        keep = box.addButton("Keep them", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.setModal(False)
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def answered(button: QAbstractButton | None) -> None:
            if not answer.done():
                answer.set_result(button is delete)

        box.buttonClicked.connect(answered)
        box.finished.connect(lambda _code: answered(None))
        self.box, self.delete_button, self.keep_button = box, delete, keep
        box.show()
        try:
            return await answer
        finally:
            self.box = self.delete_button = self.keep_button = None
            box.deleteLater()
