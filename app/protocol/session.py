"""Server-side protocol session, sans I/O (the websockets calling convention).

A driver feeds every frame to `receive_message()`, then acts on `events_received()` and sends
everything from `data_to_send()`. The session validates frames, counts audio (timestamps are
seconds of audio received, never wall-clock) and turns protocol violations into an `Error`
message followed by a close.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import ProtocolError
from app.protocol import pcm
from app.protocol.close_codes import CloseCode
from app.protocol.messages import Control, Error, ServerMessage, encode, parse_control
from app.protocol.params import StreamParams


@dataclass(frozen=True)
class AudioReceived:
    channels: list[pcm.FloatArray]  # one float32 array per channel, at params.sample_rate


@dataclass(frozen=True)
class ControlReceived:
    control: Control


@dataclass(frozen=True)
class UnknownMessage:
    text: str


Event = AudioReceived | ControlReceived | UnknownMessage


@dataclass(frozen=True)
class Close:
    code: int
    reason: str


Outgoing = str | Close


class ServerSession:
    def __init__(self, params: StreamParams) -> None:
        self.params = params
        self.bytes_received = 0
        self.closing = False
        self.stream_closed = False  # CloseStream received: no more audio is accepted
        self._events: list[Event] = []
        self._outgoing: list[Outgoing] = []

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio received per channel."""
        p = self.params
        return pcm.duration_of(self.bytes_received, p.sample_rate, p.channels)

    def receive_message(self, data: bytes | str) -> None:
        if self.closing:
            return
        try:
            if isinstance(data, bytes):
                self._receive_audio(data)
            else:
                self._receive_text(data)
        except ProtocolError as exc:
            self.fail(
                exc.close_code, "BAD_DATA" if exc.close_code != 1007 else "INVALID_DATA", exc.reason
            )

    def _receive_audio(self, data: bytes) -> None:
        if self.stream_closed:
            return
        if not data:
            # The seed article (and Deepgram's legacy API) end a stream with an empty frame.
            self.stream_closed = True
            self._events.append(ControlReceived(Control.CLOSE_STREAM))
            return
        channels = pcm.decode_frame(data, self.params.channels)
        self.bytes_received += len(data)
        self._events.append(AudioReceived(channels))

    def _receive_text(self, text: str) -> None:
        control = parse_control(text)
        if control is None:
            self._events.append(UnknownMessage(text))
            return
        if control is Control.CLOSE_STREAM:
            if self.stream_closed:
                return
            self.stream_closed = True
        self._events.append(ControlReceived(control))

    def events_received(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def send(self, message: ServerMessage) -> None:
        if not self.closing:
            self._outgoing.append(encode(message))

    def close(self, code: int = CloseCode.NORMAL, reason: str = "") -> None:
        if not self.closing:
            self.closing = True
            self._outgoing.append(Close(int(code), reason))

    def fail(self, code: int, err_code: str, message: str) -> None:
        """Send an Error message, then close with `code`."""
        if self.closing:
            return
        self.send(Error(err_code, message))
        self.close(code, message[:120])

    def data_to_send(self) -> list[Outgoing]:
        outgoing, self._outgoing = self._outgoing, []
        return outgoing
