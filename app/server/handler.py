"""One WebSocket connection = one transcription session. A thin driver around ServerSession.

Receive a frame, hand it to the session, act on its events (audio to the engine, control
messages), and send what the session queues. Engine output goes through the same session, so
an `Error` is always followed by its close.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from app.protocol.close_codes import CloseCode
from app.protocol.messages import (
    Control,
    Error,
    Metadata,
    Results,
    ResultsMetadata,
    ServerMessage,
    Warning,
)
from app.protocol.params import StreamParams
from app.protocol.session import AudioReceived, Close, ControlReceived, ServerSession
from app.server.engines.base import Engine, EngineSession
from app.server.guard import AudioRateLimit

log = logging.getLogger(__name__)
# Seconds of audio an engine may have queued before the handler stops reading from the socket.
# Above what our client lets a file run ahead of the finals (its 30 s replay cover): a client
# that paces itself is never held by TCP, where its pings would wait behind its audio and an
# alive server would be taken for dead. Only a client that does not pace itself meets it.
BACKPRESSURE_S = 60.0


@dataclass
class SessionStats:
    """What the server counts per session (the fault tests compare audio sent and received)."""

    request_id: str
    started: float = field(default_factory=time.monotonic)
    audio_seconds: float = 0.0
    closed_code: int | None = None


class ConnectionHandler:
    def __init__(
        self,
        connection: ServerConnection,
        params: StreamParams,
        engine: Engine,
        *,
        idle_timeout_s: float,
        stats: SessionStats,
        audio_rate: AudioRateLimit | None = None,
        max_session_s: float | None = None,
    ) -> None:
        self.connection = connection
        self.params = params
        self.engine = engine
        self.idle_timeout_s = idle_timeout_s
        self.stats = stats
        self.audio_rate = audio_rate
        self.max_session_s = max_session_s
        self.session = ServerSession(params)
        self._wake = asyncio.Event()
        self._engine_session: EngineSession | None = None
        # Deepgram's per-Results `metadata`: engines do not know which session they serve.
        self._results_metadata = ResultsMetadata(
            stats.request_id, engine.model_name, model_arch=engine.name
        )
        self._audio_sha256 = hashlib.sha256()  # Metadata's `sha256`, as Deepgram reports it

    def _emit(self, message: ServerMessage) -> None:
        if isinstance(message, Results):
            message = replace(message, metadata=self._results_metadata)
        if isinstance(message, Error):
            self.session.fail(message.close_code, message.code, message.message)
        else:
            self.session.send(message)
        self._wake.set()

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            for item in self.session.data_to_send():
                if isinstance(item, Close):
                    self.stats.closed_code = item.code
                    await self.connection.close(item.code, _reason(item.reason))
                    return
                await self.connection.send(item)

    async def run(self) -> None:
        log.info(
            "session %s opened at stream offset %.2f s",
            self.stats.request_id,
            self.params.stream_offset_s,
        )
        self._engine_session = self.engine.open_session(self.params, self._emit)
        writer = asyncio.create_task(self._writer())
        try:
            await self._read_loop()
            # Flush queued messages (and the close), unless the peer is already gone.
            self._wake.set()
            with contextlib.suppress(ConnectionClosed, TimeoutError):  # a peer that reads no more
                await asyncio.wait_for(asyncio.shield(writer), timeout=10)
        except ConnectionClosed:
            log.info("session %s: client went away", self.stats.request_id)
        finally:
            if self._engine_session is not None:
                self._engine_session.abort()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await writer

    async def _read_loop(self) -> None:
        assert self._engine_session is not None
        engine_session = self._engine_session
        while not self.session.closing:
            # Backpressure: while the engine is behind, stop reading; TCP slows the client.
            # An engine that failed never catches up: its Error has closed the session.
            while engine_session.backlog_s > BACKPRESSURE_S and not self.session.closing:
                if self.connection.state is State.CLOSED:  # gone meanwhile: recv() says so
                    break
                await asyncio.sleep(0.05)
            if self.session.closing or self._over_limits():
                break
            try:
                frame = await asyncio.wait_for(self.connection.recv(), self.idle_timeout_s)
            except TimeoutError:
                self.session.fail(
                    CloseCode.INTERNAL,
                    "IDLE_TIMEOUT",
                    f"no audio or KeepAlive for {self.idle_timeout_s:g} s",
                )
                break
            if isinstance(frame, bytes):
                self._audio_sha256.update(frame)
            self.session.receive_message(frame)
            self.stats.audio_seconds = self.session.audio_seconds
            for event in self.session.events_received():
                if isinstance(event, AudioReceived):
                    engine_session.feed(event.channels)
                elif isinstance(event, ControlReceived):
                    if event.control is Control.FINALIZE:
                        engine_session.finalize()
                    elif event.control is Control.CLOSE_STREAM:
                        await engine_session.close()
                        self.session.send(self._metadata())
                        self.session.close(CloseCode.NORMAL, "")
                else:
                    self.session.send(
                        Warning("UNKNOWN_MESSAGE", "ignored a message of unknown type")
                    )
            self._wake.set()

    def _over_limits(self) -> bool:
        elapsed = time.monotonic() - self.stats.started
        if self.max_session_s is not None and elapsed > self.max_session_s:
            self.session.fail(
                CloseCode.SESSION_LIMIT,
                "SESSION_LIMIT",
                f"sessions last at most {self.max_session_s:g} s; reconnect to go on",
            )
            return True
        if self.audio_rate is not None and self.audio_rate.exceeded(
            self.session.audio_seconds, elapsed
        ):
            self.session.fail(
                CloseCode.RATE_LIMIT,
                "RATE_LIMIT",
                f"audio arrives faster than {self.audio_rate.factor:g}x real time",
            )
            return True
        return False

    def _metadata(self) -> Metadata:
        return Metadata(
            request_id=self.stats.request_id,
            created=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            duration=self.session.audio_seconds,
            channels=self.params.channels,
            model=self.engine.model_name,
            engine=self.engine.name,
            sha256=self._audio_sha256.hexdigest(),
            extra={
                "stream_end": round(self.params.stream_offset_s + self.session.audio_seconds, 4)
            },
        )


def new_stats() -> SessionStats:
    return SessionStats(request_id=str(uuid.uuid4()))


def _reason(reason: str) -> str:
    """Close reasons are limited to 123 bytes of UTF-8."""
    encoded = reason.encode("utf-8")[:120]
    return encoded.decode("utf-8", errors="ignore")
