"""Qt adapter for the session's plain callbacks: each event becomes a signal."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.services.session import SessionListener


class SessionBridge(QObject):
    state_changed = Signal(object, str)  # CaptionState, detail
    interim = Signal(object)  # Segment
    final = Signal(object)  # Segment
    warning = Signal(object)  # protocol Warning (e.g. PROVIDER_FAILOVER, AUTOSAVE_FAILED)
    engine = Signal(str, object)  # the live engine, why it runs (str | None)
    names = Signal(object)  # SpeakerNames
    added = Signal(object)  # Sequence[Segment]: a restored session's finals
    reset = Signal(object)  # Sequence[Segment]: another session's finals
    corrected = Signal(object)  # Segment
    notice = Signal(str)

    def listener(self) -> SessionListener:
        return SessionListener(
            state=self.state_changed.emit,
            interim=self.interim.emit,
            final=self.final.emit,
            warning=self.warning.emit,
            engine=self.engine.emit,
            names=self.names.emit,
            added=self.added.emit,
            reset=self.reset.emit,
            corrected=self.corrected.emit,
            notice=self.notice.emit,
        )
