"""The WebSocket server: handshake checks before the upgrade, sessions, health endpoint."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from app import __version__
from app.errors import ParamError
from app.protocol.params import StreamParams, parse_params
from app.server.engines.base import Engine
from app.server.handler import ConnectionHandler, SessionStats, new_stats

log = logging.getLogger(__name__)

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

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        return f"ws://{host}:{self.port}{STREAM_PATHS[0]}"

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            max_size=self.config.max_frame_bytes,
            select_subprotocol=_select_subprotocol,
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

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        if url.path == HEALTH_PATH:
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
        if self.config.token is not None:
            offered = _offered_token(request)
            if offered is None or not hmac.compare_digest(
                offered.encode(), self.config.token.encode()
            ):
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
        return None

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


async def run_server(
    engine: Engine, config: ServerConfig, ready: asyncio.Event | None = None
) -> None:
    async with TranscriptionServer(engine, config) as server:
        log.info("listening on %s", server.url)
        if ready is not None:
            ready.set()
        await server.serve_forever()
