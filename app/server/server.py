"""The WebSocket server: handshake checks before the upgrade, sessions, health endpoint."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import ssl as ssl_module
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from app import __version__
from app.errors import ParamError
from app.logs import secret_safe_logger
from app.protocol.pacing import HEADER
from app.protocol.params import StreamParams, parse_params
from app.server.engines.base import Engine
from app.server.guard import (
    DEFAULT_ORIGINS,
    AudioRateLimit,
    ClientLimits,
    host_allowed,
    origin_allowed,
)
from app.server.handler import ConnectionHandler, SessionStats, new_stats

log = logging.getLogger(__name__)

_wire_log = secret_safe_logger(__name__)  # client tokens stay out of debug logs

STREAM_PATHS = ("/ws/transcribe", "/v1/listen")
HEALTH_PATH = "/healthz"
# A 100 ms frame of 48 kHz stereo is 19 KB; 1 MiB leaves room for bursty clients.
DEFAULT_MAX_FRAME_BYTES = 1 << 20


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    idle_timeout_s: float = 20.0
    allowed_origins: tuple[str, ...] = DEFAULT_ORIGINS
    allowed_hosts: tuple[str, ...] = ()  # extra Host names a loopback server answers to
    max_sessions_per_client: int = 4
    attempts_per_s: float = 2.0
    attempt_burst: float = 20.0
    audio_rate: AudioRateLimit | None = field(default_factory=AudioRateLimit)
    max_session_s: float | None = 4 * 3600.0
    ssl: ssl_module.SSLContext | None = None


def _json_response(connection: ServerConnection, status: int, body: dict[str, Any]) -> Response:
    response = connection.respond(status, json.dumps(body) + "\n")
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json"
    return response


def _offered_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    # Browsers cannot set headers: Deepgram's convention is `Sec-WebSocket-Protocol: token, <t>`.
    protocols = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    if len(protocols) >= 2 and protocols[0].lower() in ("token", "bearer"):
        return protocols[1]
    return None


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """Echo the auth scheme of `Sec-WebSocket-Protocol: token, <t>`, as browsers require."""
    if offered and offered[0].lower() in ("token", "bearer"):
        return offered[0]
    return None


class TranscriptionServer:
    def __init__(self, engine: Engine, config: ServerConfig | None = None) -> None:
        self.engine = engine
        self.config = config or ServerConfig()
        self.sessions: dict[str, SessionStats] = {}
        self.finished: list[SessionStats] = []
        self._server: Server | None = None
        self._params: dict[int, StreamParams] = {}
        self._releases: set[asyncio.Future[None]] = set()
        self.limits = ClientLimits(
            max_sessions=self.config.max_sessions_per_client,
            attempts_per_s=self.config.attempts_per_s,
            attempt_burst=self.config.attempt_burst,
        )

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        scheme = "wss" if self.config.ssl is not None else "ws"
        return f"{scheme}://{host}:{self.port}{STREAM_PATHS[0]}"

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            process_response=self._process_response,
            max_size=self.config.max_frame_bytes,
            select_subprotocol=_select_subprotocol,
            ssl=self.config.ssl,
            logger=_wire_log,
            ping_interval=20,
            ping_timeout=20,
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close(close_connections=True)
            await self._server.wait_closed()
            self._server = None

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    async def __aenter__(self) -> TranscriptionServer:
        if self._server is None:
            await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _process_response(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> Response:
        if self.config.audio_rate is not None and response.status_code == 101:
            response.headers[HEADER] = self.config.audio_rate.advertised().header()
        return response

    def _authorized(self, request: Request) -> bool:
        if self.config.token is None:
            return True
        offered = _offered_token(request)
        return offered is not None and hmac.compare_digest(
            offered.encode(), self.config.token.encode()
        )

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        hosts = request.headers.get_all("Host")
        if len(hosts) != 1 or not host_allowed(
            hosts[0], self.config.host, self.config.allowed_hosts
        ):
            return _json_response(
                connection,
                421,
                {
                    "err_code": "HOST_NOT_ALLOWED",
                    "err_msg": "this server answers only to its loopback names",
                },
            )
        origins = request.headers.get_all("Origin")
        if len(origins) > 1 or not origin_allowed(
            origins[0] if origins else None, self.config.allowed_origins
        ):
            return _json_response(
                connection,
                403,
                {
                    "err_code": "ORIGIN_NOT_ALLOWED",
                    "err_msg": f"origin {', '.join(origins)} is not allowed "
                    "(serve --allow-origin adds one)",
                },
            )
        if url.path == HEALTH_PATH:
            # Anyone may ask whether the server is up; what it runs is for its token holders.
            if not self._authorized(request):
                return _json_response(connection, 200, {"status": "ok"})
            return _json_response(
                connection,
                200,
                {
                    "status": "ok",
                    "version": __version__,
                    "engine": self.engine.name,
                    "model": self.engine.model_name,
                    "sessions": len(self.sessions),
                },
            )
        if url.path not in STREAM_PATHS:
            return _json_response(
                connection,
                404,
                {
                    "err_code": "NOT_FOUND",
                    "err_msg": f"no endpoint at {url.path}; stream to {STREAM_PATHS[0]}",
                },
            )
        # Before the token check: guessing tokens costs attempts like any other.
        refusal = self.limits.admit(_client_of(connection), time.monotonic())
        if refusal is not None:
            log.warning("refused %s: %s", _client_of(connection), refusal)
            return _json_response(
                connection, 429, {"err_code": "TOO_MANY_REQUESTS", "err_msg": refusal}
            )
        if not self._authorized(request):
            log.warning("refused %s: missing or wrong token", _client_of(connection))
            return _json_response(
                connection,
                401,
                {
                    "err_code": "UNAUTHORIZED",
                    "err_msg": "missing or wrong token (Authorization: Token <token>)",
                },
            )
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return _json_response(
                connection,
                426,
                {
                    "err_code": "UPGRADE_REQUIRED",
                    "err_msg": "this endpoint speaks WebSocket",
                },
            )
        try:
            params = parse_params(parse_qs(url.query, keep_blank_values=True))
            self.engine.check_params(params)
        except ParamError as exc:
            return _json_response(
                connection,
                400,
                {
                    "err_code": "INVALID_PARAMETER",
                    "err_msg": str(exc),
                    "parameter": exc.param,
                },
            )
        self._params[id(connection)] = params
        # Counted from here, released when the connection ends however it ends (a handshake
        # that fails after this point never reaches the session handler).
        client = _client_of(connection)
        self.limits.opened(client)
        release = asyncio.ensure_future(self._release_when_closed(connection, client))
        self._releases.add(release)
        release.add_done_callback(self._releases.discard)
        return None

    async def _release_when_closed(self, connection: ServerConnection, client: str) -> None:
        try:
            await connection.wait_closed()
        finally:
            self.limits.closed(client)
            self._params.pop(id(connection), None)

    async def _handle(self, connection: ServerConnection) -> None:
        params = self._params.pop(id(connection), None)
        if params is None:  # pragma: no cover - process_request always runs first
            await connection.close(1011, "handshake state lost")
            return
        stats = new_stats()
        self.sessions[stats.request_id] = stats
        handler = ConnectionHandler(
            connection,
            params,
            self.engine,
            idle_timeout_s=self.config.idle_timeout_s,
            stats=stats,
            audio_rate=self.config.audio_rate,
            max_session_s=self.config.max_session_s,
        )
        try:
            await handler.run()
        except Exception:
            log.exception("session %s crashed", stats.request_id)
            await connection.close(1011, "internal error")
        finally:
            self.sessions.pop(stats.request_id, None)
            self.finished.append(stats)
            del self.finished[:-100]


def _client_of(connection: ServerConnection) -> str:
    address = connection.remote_address
    return str(address[0]) if address else "?"


async def run_server(
    engine: Engine, config: ServerConfig, ready: asyncio.Event | None = None
) -> None:
    async with TranscriptionServer(engine, config) as server:
        log.info("listening on %s", server.url)
        if ready is not None:
            ready.set()
        await server.serve_forever()
