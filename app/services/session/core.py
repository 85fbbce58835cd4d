"""CurrentSession: the session the app is writing, and everything that happens to it. No Qt.

It owns the session's journal (one per session, across its runs, restores and corrections),
its finals as corrected and its speakers' names, the speech engine it captions with, and the
run going on (a CaptionService). The window asks it to start, stop, pause, restore, continue
another session, rename, correct and export; it tells its `SessionListener` what changed.

Runs are numbered on one timeline: a new run goes on after everything the session holds, and
its voices are numbered after the ones before, so exports never run backwards.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from app.audio.base import AudioSource
from app.client.lifecycle import LinkConfig
from app.domain.export import ExportOptions, export
from app.domain.transcript import Segment
from app.errors import AutosaveError, CaptionError
from app.protocol.messages import Warning
from app.services.caption_events import AUTOSAVE_FAILED, CaptionListener, CaptionState
from app.services.captioning import CaptionService
from app.services.journal import Journal, dismiss_crashed, read_journal, written
from app.services.private_files import write_export
from app.services.session.engine_host import EngineChoice, EngineHost
from app.services.session.events import Meter, SessionListener
from app.services.session.finals import SessionFinals
from app.services.session.restore import SessionRestore, last_session
from app.services.settings import AppSettings

log = logging.getLogger(__name__)

EXPORT_TITLE = "Captionist transcript"


class CurrentSession:
    def __init__(
        self,
        listener: SessionListener | None = None,
        *,
        journal_dir: Path | None = None,
        engines: EngineHost[Any] | None = None,
        link: LinkConfig | None = None,
    ) -> None:
        self.listener = listener or SessionListener()
        self.journal_dir = journal_dir  # None: the user's data folder
        self.engines = engines  # None: a server is given with `use_server` (tests, bench)
        self.link = link or LinkConfig()  # reconnect, ring buffer and keepalive settings
        self.words = SessionFinals()
        self.journal: Journal | None = None
        self.service: CaptionService | None = None
        self.server_url: str | None = None
        self.token: str | None = None
        self.state = CaptionState.LOADING  # until a server is known (`use_server`)
        self._starting = False
        self._run_task: asyncio.Task[None] | None = None
        self._restorer = SessionRestore()
        self._restore_after_run: Path | None = None

    # -- state ----------------------------------------------------------------------------
    def _set_state(self, state: CaptionState, detail: str = "") -> None:
        self.state = state
        self.listener.state(state, detail)

    @property
    def running(self) -> bool:
        """A Start is under way (its engine may be loading) or a run goes on."""
        return self._starting or (self.service is not None and self.service.running)

    @property
    def current_id(self) -> str | None:
        """The id of the session whose journal is open (the library's name for it)."""
        journal = self.journal
        return journal.path.stem if journal is not None and not journal.closed else None

    def is_current(self, session_id: str, directory: Path) -> bool:
        """Is `session_id` of the library in `directory` the session being written?"""
        journal = self.journal
        if journal is None or journal.closed or journal.path.stem != session_id:
            return False
        return journal.path.parent.resolve() == directory.resolve()

    def meter(self) -> Meter | None:
        service = self.service
        if service is None or service.source is None:
            return None
        figures = service.figures
        return Meter(
            service.source.level,
            figures.latency_s,
            figures.echoes_hidden,
            figures.echo_cancelling,
        )

    # -- the engine -----------------------------------------------------------------------
    def use_server(self, url: str, token: str, engine: str, note: str | None = None) -> None:
        """Caption with the server at `url` (the embedded one, or another)."""
        self.server_url, self.token = url, token
        self.listener.engine(engine, note)
        self._set_state(CaptionState.IDLE)

    def engine_failed(self, reason: str) -> None:
        self._set_state(CaptionState.ERROR, f"the speech engine did not start: {reason}")

    async def engine_ready(self, wanted: EngineChoice) -> bool:
        """Serve the engine and model asked for, loading them if they changed (in a worker
        thread, the state LOADING meanwhile). A failed load is told; the old engine stays."""
        host = self.engines
        if host is None:
            return self.server_url is not None
        if host.needs_switch(wanted):
            first = host.engine is None
            self._set_state(CaptionState.LOADING, "" if first else wanted.model)
            try:
                await host.switch(wanted)
            except Exception as exc:  # any loader failure: told, the app stays usable
                log.exception("engine failed to load (%s %s)", wanted.engine, wanted.model)
                if first:
                    self.engine_failed(str(exc))
                else:
                    detail = f"could not load {wanted.model}: {exc}; still using {host.label}"
                    self._set_state(CaptionState.ERROR, detail)
                return False
        if host.url is None or host.token is None:
            return False  # the app quit while the model loaded
        self.use_server(host.url, host.token, host.label, host.note)
        return True

    # -- captioning -----------------------------------------------------------------------
    async def run(self, source: AudioSource, settings: AppSettings) -> None:
        """Caption `source` into this session until it ends or `stop`. A second Start while
        one is under way does nothing. Errors end the run in the ERROR state, never raised."""
        if self.running:
            return
        self._starting = True
        try:
            ready = await self.engine_ready(EngineChoice(settings.engine, settings.model))
            journal = self.open_journal() if ready else None
        except (CaptionError, OSError) as exc:  # no journal to write: say why, start nothing
            self._set_state(CaptionState.ERROR, f"the transcript cannot be saved: {exc}")
            return
        finally:
            self._starting = False
        if journal is None or self.server_url is None:
            return
        self.service = CaptionService(
            self.server_url,
            token=self.token,
            journal=journal,
            listener=CaptionListener(
                state=self._set_state,
                interim=self.listener.interim,
                final=self.add_final,
                warning=self.listener.warning,
            ),
            link=self.link,
            language=settings.language,
            keyterms=settings.vocabulary,
            time_offset_s=self.words.next_run_start,
            diarize=settings.label_speakers,
            speakers_before=self.words.speakers_used,
            max_speakers=settings.max_speakers,
        )
        self._run_task = asyncio.current_task()
        try:
            await self.service.run(source)
        except CaptionError as exc:
            log.warning("captioning stopped: %s", exc)
        finally:
            if self._restore_after_run is not None:
                self.restore(self._restore_after_run)

    def add_final(self, final: Segment) -> None:
        """A final the run heard, once its journal write was asked for: kept and shown."""
        self.words.append(final)
        self.listener.final(final)

    def toggle_pause(self) -> None:
        service = self.service
        if service is None:
            return
        (service.resume if service.state is CaptionState.PAUSED else service.pause)()

    def stop(self) -> None:
        if self.service is not None:
            self.service.request_stop()

    async def stop_and_wait(self, timeout_s: float = 15.0) -> None:
        self.stop()
        task = self._run_task
        if task is not None and not task.done() and task is not asyncio.current_task():
            await asyncio.wait({task}, timeout=timeout_s)

    # -- the journal ----------------------------------------------------------------------
    def open_journal(self) -> Journal:
        """The session's journal, opened at first use (a Start, a rename, a restore)."""
        if self.journal is None or self.journal.closed:
            self.journal = Journal.start(self.journal_dir)
        return self.journal

    @property
    def unsaved(self) -> int:
        """Lines the disk has refused so far: they live only in memory until it takes them."""
        journal = self.journal
        return journal.unsaved if journal is not None and not journal.closed else 0

    async def retry_save(self) -> bool:
        """Try the disk again now: True once nothing is left unsaved."""
        journal = self.journal
        if journal is None or journal.closed:
            return True
        try:
            await asyncio.to_thread(journal.retry)
        except AutosaveError as exc:
            log.info("autosave still fails: %s", exc)
        return self.unsaved == 0

    async def set_title(self, title: str) -> None:
        """Title the session being written (the library refuses to write a journal it does
        not hold). Raises ValueError for a title too long, AutosaveError while the disk
        refuses (the title is kept and written later)."""
        await written(self.open_journal().submit_title(title))

    # -- the words ------------------------------------------------------------------------
    def rename_speaker(self, label: str, name: str) -> str:
        """Show `label` as `name` ("" takes the name away): what it is shown as now. Raises
        ValueError (saying why) for a name that cannot be shown."""
        shown = self.words.rename(label, name)
        # Queued behind every final already written; a full disk keeps it for the next write.
        self.open_journal().submit_rename(label, self.words.names.get(label, ""))
        self.listener.names(self.words.names)
        return shown

    def correct(self, final: Segment, text: str) -> Segment | None:
        """`final` now reads `text` (its words heard are kept); None: not in this session."""
        corrected = self.words.correct(final, text)
        if corrected is not None:
            self.open_journal().submit_edit(final, corrected.text)
            self.listener.corrected(corrected)
        return corrected

    def export_text(self, fmt: str) -> str:
        return export(
            self.words.utterances, fmt, ExportOptions(title=EXPORT_TITLE, names=self.words.names)
        )

    def export_to(self, path: Path, fmt: str) -> None:
        """Raises OSError (a full disk, a read-only folder): the session keeps everything.
        Written 0600 inside the app's data folder, with the user's umask elsewhere."""
        data = self.journal_dir.parent if self.journal_dir is not None else None
        write_export(path, self.export_text(fmt), data)

    # -- other sessions -------------------------------------------------------------------
    def restore(self, path: Path) -> int:
        """Add a saved session's transcript after what this one holds, and to its journal:
        how many utterances came back (0 while captioning: they come once it stops)."""
        if self.service is not None and self.service.running:
            # The run's times are fixed: restored lines go after all of it, once it ends.
            self._restore_after_run = path
            self.listener.notice(f"{path.name}: restored when you stop")
            return 0
        self._restore_after_run = None
        restored = self._restorer.restore(path, self.open_journal(), self.words.finals)
        self.words.extend(restored.finals)
        self.words.merge_names(restored.names)
        self.listener.added(restored.finals)
        if restored.names:
            self.listener.names(self.words.names)
        self.listener.notice(restored.note)
        if restored.autosave_warning is not None:
            self.listener.warning(Warning(AUTOSAVE_FAILED, restored.autosave_warning))
        return len(restored.utterances)

    def restore_last(self) -> int:
        """File → Restore last session: the newest crashed session, else the newest one."""
        current = self.journal.path if self.journal is not None else None
        path = last_session(self.journal_dir, current)
        return self.restore(path) if path is not None else 0

    def crashed_offer(self, path: Path) -> int:
        """A session that ended without closing: how many finals it holds to offer back.
        It is offered once: not marked crashed any more."""
        count = len(read_journal(path))
        dismiss_crashed(path)
        return count

    def adopt(self, journal: Journal, finals: list[Segment], names: dict[str, str]) -> None:
        """Make the session whose `journal` is open (its lock held) the current one: its
        words replace these, and the next Start appends to it. See continuing.py."""
        self.journal = journal
        self._restorer = SessionRestore()
        self.words.replace(finals, names)
        self.listener.reset(self.words.finals)
        self.listener.names(self.words.names)

    async def close(self) -> None:
        """Quit: the run stops (its words become final and are journaled), then the journal
        closes. What the disk still refuses is logged and the session stays marked open."""
        await self.stop_and_wait()
        if self.journal is not None:
            await self.journal.aclose()
