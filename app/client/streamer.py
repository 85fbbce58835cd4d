"""Async streaming client: one WebSocket session with a transcription server.

Foreign exceptions are mapped where they enter: a refused handshake becomes HandshakeRejected
(with the server's JSON err_code/err_msg), a dead address ServerUnavailable, and an abnormal
close ServerClosed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import TracebackType
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from app.errors import HandshakeRejected, ProtocolError, ServerClosed, ServerUnavailable
from app.logs import SECRETS, secret_safe_logger
from app.protocol.messages import Control, ServerMessage, encode_control, parse_server_message
from app.protocol.pacing import HEADER, AudioRate
from app.protocol.params import StreamParams

_wire_log = secret_safe_logger(__name__)  # the handshake carries the token


def stream_url(base: str, params: StreamParams) -> str:
    """`base` with the handshake query added (repeated parameters such as keyterm repeat)."""
    parts = urlsplit(base)
    query = urlencode(params.to_query(), doseq=True)
    if parts.query:
        query = parts.query + "&" + query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


class StreamClient:
    def __init__(
        self,
        url: str,
        params: StreamParams,
        *,
        token: str | None = None,
        open_timeout: float = 10.0,
        ping_interval: float = 20.0,
        ping_timeout: float = 20.0,
    ) -> None:
        self.base_url = url
        self.url = stream_url(url, params)
        self.params = params
        self.token = token
        SECRETS.hide(token)  # wherever it shows up in a log record (a URL, an error)
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self._ws: ClientConnection | None = None
        self.audio_rate: AudioRate | None = None  # the server's limit, when it says

    async def __aenter__(self) -> StreamClient:
        headers = {"Authorization": f"Token {self.token}"} if self.token else None
        try:
            self._ws = await connect(
                self.url,
                additional_headers=headers,
                open_timeout=self.open_timeout,
                max_size=1 << 22,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
                close_timeout=1,  # a dead peer must not hold up the reconnect
                logger=_wire_log,
            )
        except InvalidStatus as exc:
            raise _rejected(self.base_url, exc) from exc
        except InvalidURI as exc:
            raise ServerUnavailable(self.base_url, f"invalid URL: {exc}") from exc
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise ServerUnavailable(self.base_url, str(exc) or type(exc).__name__) from exc
        response = self._ws.response
        self.audio_rate = AudioRate.parse(response.headers.get(HEADER) if response else None)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def abort(self) -> None:
        """End the connection after a local failure (the receiver then sees it closed)."""
        if self._ws is not None:
            await self._ws.close(1011, "client failure")

    @property
    def ws(self) -> ClientConnection:
        if self._ws is None:
            raise RuntimeError("StreamClient used outside 'async with'")
        return self._ws

    async def send_audio(self, pcm: bytes) -> None:
        if not pcm:
            return  # an empty frame means end-of-stream to some servers
        await self._send(pcm)

    async def send_control(self, control: Control) -> None:
        await self._send(encode_control(control))

    async def _send(self, data: bytes | str) -> None:
        try:
            await self.ws.send(data)
        except ConnectionClosed as exc:
            raise _closed(exc) from exc

    async def messages(self) -> AsyncIterator[ServerMessage]:
        """Server messages until a normal close; raises ServerClosed on an abnormal one."""
        async for _, message in self.frames():
            if message is not None:
                yield message

    async def frames(self) -> AsyncIterator[tuple[str, ServerMessage | None]]:
        """Each text frame as received with its parsed message (None for unknown types)."""
        while True:
            try:
                frame = await self.ws.recv()
            except ConnectionClosed as exc:
                if exc.rcvd is not None and exc.rcvd.code == 1000:
                    return
                raise _closed(exc) from exc
            if isinstance(frame, bytes):
                raise ProtocolError(1003, "server sent a binary frame")
            yield frame, parse_server_message(frame)


def _closed(exc: ConnectionClosed) -> ServerClosed:
    if exc.rcvd is not None:
        return ServerClosed(exc.rcvd.code, exc.rcvd.reason)
    if exc.sent is not None and exc.sent.reason:  # we ended it: say why (a ping unanswered)
        return ServerClosed(1006, f"connection lost ({exc.sent.reason})")
    return ServerClosed(1006, "connection lost")


def _rejected(url: str, exc: InvalidStatus) -> HandshakeRejected:
    response = exc.response
    err_code, err_msg = "HTTP_ERROR", response.reason_phrase
    try:
        body = json.loads(bytes(response.body or b"").decode("utf-8"))
        err_code = str(body.get("err_code", err_code))
        err_msg = str(body.get("err_msg", err_msg))
    except (ValueError, UnicodeDecodeError, AttributeError):
        pass
    return HandshakeRejected(url, response.status_code, err_code, err_msg)
