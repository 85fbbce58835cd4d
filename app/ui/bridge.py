"""Qt adapter for the plain-callback services: callbacks become queued signals."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.services.caption_events import CaptionListener, CaptionState


class CaptionBridge(QObject):
    state_changed = Signal(str, str)  # CaptionState.name, detail
    interim = Signal(object)  # Segment
    final = Signal(object)  # Segment
    warning = Signal(str, str)  # code, message (e.g. PROVIDER_FAILOVER)

    def listener(self) -> CaptionListener:
        return CaptionListener(
            state=self._state,
            interim=self.interim.emit,
            final=self.final.emit,
            warning=self.warning.emit,
        )

    def _state(self, state: CaptionState, detail: str) -> None:
        self.state_changed.emit(state.name, detail)
