"""What the session core reports, shown: the transcript model, the overlay, the main window's
state, status bar and meters. One way only: it reads events and never calls the core back
(but to poll its meter while a run goes on)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer

from app.domain.speakers import SpeakerNames
from app.domain.transcript import Segment
from app.protocol.messages import Warning, live_engine_of
from app.services.caption_events import AUTOSAVE_FAILED, AUTOSAVE_RESUMED, CaptionState
from app.services.session import CurrentSession
from app.ui.bridge import SessionBridge
from app.ui.main_window import MainWindow
from app.ui.overlay.caption_overlay import CaptionOverlay
from app.ui.transcript.model import TranscriptModel

log = logging.getLogger(__name__)
NO_INTERIM = Segment("", 0, 0, "", False)


class SessionView(QObject):
    def __init__(
        self,
        bridge: SessionBridge,
        session: CurrentSession,
        window: MainWindow,
        overlay: CaptionOverlay,
        model: TranscriptModel,
    ) -> None:
        super().__init__(bridge)
        self.session, self.window, self.overlay, self.model = session, window, overlay, model
        self._meter = QTimer(self)
        self._meter.setInterval(100)
        self._meter.timeout.connect(self._update_meter)
        bridge.state_changed.connect(self._state_changed)
        bridge.warning.connect(self._warning)
        bridge.interim.connect(self._interim)
        bridge.final.connect(self._final)
        bridge.engine.connect(window.set_engine)
        bridge.names.connect(self._names)
        bridge.added.connect(model.extend)
        bridge.reset.connect(self._reset)
        bridge.corrected.connect(lambda final: model.correct(final, final.text))
        bridge.notice.connect(lambda text: window.statusBar().showMessage(text, 8000))

    def _state_changed(self, state: CaptionState, detail: str) -> None:
        self.window.set_running(state, detail)
        if state.running:
            self._meter.start()
        else:
            self._meter.stop()
            self.window.set_level(0.0)
        if state in (CaptionState.IDLE, CaptionState.ERROR):
            self.overlay.set_interim(NO_INTERIM)

    def _warning(self, warning: Warning) -> None:
        """Server warnings (a provider switch changes which engine is live) and the app's own."""
        code, message = warning.code, warning.message
        log.info("warning %s: %s", code, message)
        if code in (AUTOSAVE_FAILED, AUTOSAVE_RESUMED):
            self.window.set_autosave_problem(message if code == AUTOSAVE_FAILED else None)
        live = live_engine_of(warning)
        if live is not None:
            self.window.set_engine(live)
        self.window.statusBar().showMessage(message, 10_000)

    def _interim(self, segment: Segment) -> None:
        self.overlay.set_interim(segment)
        shown = self.session.words.names.shown(segment.source)
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

    def _names(self, names: SpeakerNames) -> None:
        self.model.set_names(names)
        self.overlay.names = dict(names)

    def _reset(self, finals: Sequence[Segment]) -> None:
        self.model.clear()
        self.model.extend(finals)  # the finals: turns and corrections as captured
        self.window.set_interim("")

    def _update_meter(self) -> None:
        meter = self.session.meter()
        if meter is not None:
            self.window.set_level(meter.level)
            self.window.set_latency(meter.latency_s)
            self.window.set_echoes_hidden(meter.echoes_hidden)
            self.window.set_echo_cancelling(meter.echo_cancelling)
