"""Endpointing from VAD probabilities: pure, one call per 32 ms window.

Speech starts after `onset_windows` windows above `threshold`; an utterance ends after
`endpointing_s` of windows below `threshold - 0.15` (hysteresis, as Silero recommends).
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_S = 0.032


@dataclass(frozen=True)
class SpeechStart:
    time: float  # first speech window's start


@dataclass(frozen=True)
class SpeechEnd:
    time: float  # end of the last speech window


@dataclass(frozen=True)
class SilenceTimeout:
    """`utterance_end_s` of silence after the last speech (Deepgram's UtteranceEnd)."""

    last_speech_end: float


EndpointEvent = SpeechStart | SpeechEnd | SilenceTimeout


class Endpointer:
    def __init__(
        self,
        *,
        endpointing_s: float = 0.3,
        utterance_end_s: float | None = None,
        threshold: float = 0.5,
        onset_windows: int = 2,
    ) -> None:
        self.endpointing_s = endpointing_s
        self.utterance_end_s = utterance_end_s
        self.threshold = threshold
        self.off_threshold = threshold - 0.15
        self.onset_windows = onset_windows
        self.in_speech = False
        self._windows = 0  # windows seen: time = windows * WINDOW_S
        self._onset_run = 0
        self._silence_run = 0
        self._last_speech_end: float | None = None
        self._utterance_end_pending = False

    @property
    def time(self) -> float:
        return self._windows * WINDOW_S

    @property
    def last_speech_end(self) -> float | None:
        return self._last_speech_end

    def update(self, probability: float) -> list[EndpointEvent]:
        events: list[EndpointEvent] = []
        self._windows += 1
        if not self.in_speech:
            self._onset_run = self._onset_run + 1 if probability >= self.threshold else 0
            if self._onset_run >= self.onset_windows:
                self.in_speech = True
                self._silence_run = 0
                self._utterance_end_pending = self.utterance_end_s is not None
                events.append(SpeechStart((self._windows - self.onset_windows) * WINDOW_S))
            elif self._utterance_end_pending and self._last_speech_end is not None:
                assert self.utterance_end_s is not None
                if self.time - self._last_speech_end >= self.utterance_end_s:
                    self._utterance_end_pending = False
                    events.append(SilenceTimeout(self._last_speech_end))
            return events
        if probability >= self.off_threshold:
            self._silence_run = 0
            self._last_speech_end = self.time
            return events
        self._silence_run += 1
        if self._silence_run * WINDOW_S >= self.endpointing_s:
            events.append(self._end())
        return events

    def _end(self) -> SpeechEnd:
        self.in_speech = False
        self._onset_run = 0
        end = (self._windows - self._silence_run) * WINDOW_S
        self._last_speech_end = end
        self._silence_run = 0
        return SpeechEnd(end)

    def force_end(self) -> SpeechEnd | None:
        """End an open utterance now (Finalize, CloseStream)."""
        return self._end() if self.in_speech else None
