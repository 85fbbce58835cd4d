"""A local stand-in for Deepgram's live API (the cloud cannot be reached from tests).

It speaks Deepgram's protocol: `/v1/listen` with its query parameters, `Authorization: Token`,
Results shaped as Deepgram's (the real local engine supplies the words), a Results message
at least once a second of audio, KeepAlive / Finalize / CloseStream, Metadata at the end, and
close 1011 "NET-0001" after 10 s without data. Faults can be switched on at any time.
With `diarize=true` each word carries a `speaker`: two talkers who take turns every second
of audio (speaker 0 in the first, 1 in the next, ...), labelled from 0 as Deepgram's are;
an engine that labels its words itself (one that knows the true voices) keeps its labels.

With `holds_replies` it answers as the real service can when audio stops: replies go out once
a second of audio has come in, so what it has not said when the audio stops (a Pause) stays
unsaid, with nothing sent at all, until more audio, a Finalize or CloseStream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from app.protocol.messages import Control, Metadata, Results, ServerMessage, parse_control
from app.protocol.params import StreamParams, parse_params
from app.protocol.pcm import decode_frame
from app.server.engines.base import Engine

FAKE_LOG = logging.getLogger("fake_deepgram")


@dataclass
class Faults:
    refuse_status: int | None = None  # 401 or 429 at the handshake
    close_after_s: float | None = None  # close 1011 once this much audio has come in
    stall_after_s: float | None = None  # go silent (keep reading) after this much audio
    delay_s: float = 0.0  # every reply this much later
    # Every connection after the first (the failover's probes) drops this long after it opens.
    drop_probes_after_s: float | None = None
    # Mid-stream faults hit the first connection only (a provider incident, then recovery);
    # False: every connection (a provider that keeps failing).
    first_connection_only: bool = True


@dataclass
class Connection:
    query: dict[str, list[str]]
    authorization: str
    audio_s: float = 0.0


class FakeDeepgram:
    def __init__(self, engine: Engine, api_key: str = "dg-test-key") -> None:
        self.engine = engine
        self.api_key = api_key
        self.faults = Faults()
        self.connections: list[Connection] = []
        self.authorizations: list[str] = []  # the Authorization header of every handshake
        self.holds_replies = False  # see the module docstring
        self.idle_close_s = 10.0  # Deepgram's NET-0001: no audio or KeepAlive for this long
        self._server: Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/v1/listen"

    async def __aenter__(self) -> FakeDeepgram:
        # Its own logger: the fake (the "cloud") may log what it receives; our code may not.
        self._server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._check, logger=FAKE_LOG
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def _refuse(self, connection: ServerConnection, status: int, body: dict[str, Any]) -> Response:
        return connection.respond(status, json.dumps(body))

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        self.authorizations.append(request.headers.get("Authorization", ""))
        if urlsplit(request.path).path != "/v1/listen":
            return connection.respond(404, "Not Found")
        if request.headers.get("Authorization") != f"Token {self.api_key}":
            return self._refuse(
                connection, 401, {"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials."}
            )
        if self.faults.refuse_status == 401:
            return self._refuse(
                connection, 401, {"err_code": "INVALID_AUTH", "err_msg": "Invalid credentials."}
            )
        if self.faults.refuse_status == 429:
            return self._refuse(
                connection, 429, {"err_code": "TOO_MANY_REQUESTS", "err_msg": "Too many requests"}
            )
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        query = parse_qs(urlsplit(ws.request.path).query)
        conn = Connection(query, ws.request.headers.get("Authorization", ""))
        self.connections.append(conn)
        params = parse_params(query)
        outbox: asyncio.Queue[tuple[int, float, ServerMessage]] = asyncio.Queue()
        # emitted / released: replies produced and let out so far (holds_replies); open: every
        # reply goes out (after a Finalize or CloseStream, until more audio comes in).
        state: dict[str, Any] = {
            "stalled": False,
            "said_until": 0.0,
            "emitted": 0,
            "released": 0,
            "open": False,
            "wake": asyncio.Event(),
        }

        faulty = len(self.connections) == 1 or not self.faults.first_connection_only
        faults = self.faults if faulty else Faults()

        def emit(message: ServerMessage) -> None:
            if isinstance(message, Results) and params.diarize:
                message = _with_speakers(message)
            if isinstance(message, Results):
                state["said_until"] = max(state["said_until"], message.start + message.duration)
            outbox.put_nowait((state["emitted"], time.monotonic() + faults.delay_s, message))
            state["emitted"] += 1

        if len(self.connections) > 1 and self.faults.drop_probes_after_s is not None:
            await asyncio.sleep(self.faults.drop_probes_after_s)
            await ws.close(1011, "NET-0000 internal server error")
            return
        session = self.engine.open_session(params, emit)
        writer = asyncio.create_task(self._write(ws, outbox, state))
        try:
            await self._read(ws, conn, params, session, state, emit, faults)
        except ConnectionClosed:
            pass
        finally:
            session.abort()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await writer

    async def _read(
        self,
        ws: ServerConnection,
        conn: Connection,
        params: StreamParams,
        session: Any,
        state: dict[str, Any],
        emit: Any,
        faults: Faults,
    ) -> None:
        def release(*, keep_open: bool) -> None:
            state["released"] = state["emitted"]
            state["open"] = keep_open
            state["wake"].set()

        while True:
            try:
                frame = await asyncio.wait_for(ws.recv(), self.idle_close_s)
            except TimeoutError:
                await ws.close(1011, "NET-0001")
                return
            if isinstance(frame, str):
                control = parse_control(frame)
                if control is Control.FINALIZE:
                    session.finalize()
                    release(keep_open=True)
                elif control is Control.CLOSE_STREAM:
                    release(keep_open=True)
                    await session.close()
                    await asyncio.sleep(faults.delay_s + 0.05)
                    await ws.send(json.dumps(self._metadata(conn).to_dict()))
                    await ws.close(1000)
                    return
                continue
            if state["open"]:
                release(keep_open=False)  # what a Finalize brought out, then its cadence again
            session.feed(decode_frame(frame, params.channels))
            heard_before = conn.audio_s
            conn.audio_s += len(frame) / (2 * params.channels * params.sample_rate)
            if faults.close_after_s is not None and conn.audio_s >= faults.close_after_s:
                await ws.close(1011, "NET-0000 internal server error")
                return
            if faults.stall_after_s is not None and conn.audio_s >= faults.stall_after_s:
                state["stalled"] = True
            if conn.audio_s - state["said_until"] >= 1.0:  # Deepgram's cadence in silence
                start = state["said_until"]
                # An interim: it shows the provider is alive and settles nothing (the local
                # engine may still be in the middle of a word).
                emit(Results("", False, False, start, conn.audio_s - start))
            if int(conn.audio_s) > int(heard_before):  # its cadence: a second of audio is in
                release(keep_open=False)

    async def _write(
        self,
        ws: ServerConnection,
        outbox: asyncio.Queue[tuple[int, float, ServerMessage]],
        state: dict[str, Any],
    ) -> None:
        while True:
            number, due, message = await outbox.get()
            while self.holds_replies and not state["open"] and number >= state["released"]:
                state["wake"].clear()
                await state["wake"].wait()
            if state["stalled"]:
                continue
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await ws.send(json.dumps(message.to_dict()))

    def _metadata(self, conn: Connection) -> Metadata:
        return Metadata(
            request_id=str(uuid.uuid4()),
            created="2026-11-24T00:00:00.000Z",
            duration=conn.audio_s,
            channels=1,
            model="nova-2",
            engine="deepgram-fake",
        )


def _with_speakers(results: Results) -> Results:
    """The fake's diarizer: the talker changes every second of audio (unless the engine
    labelled the word already)."""
    words = tuple(
        w if w.speaker is not None else replace(w, speaker=int(w.start) % 2) for w in results.words
    )
    return replace(results, words=words)
