"""The Deepgram engine: relay a session to Deepgram's live API and its results back.

Deepgram speaks the protocol ours is shaped on, so Results pass through as they are. What this
engine adds is judgement about the provider: a refused handshake, an abnormal close, a stall
(audio flowing, nothing coming back) or replies lagging far behind the audio are a
`ProviderFailure`. Alone, a failure ends the session with a mapped close code; under
`FailoverEngine` it moves the session to the local engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from app.credentials import redact
from app.errors import ConfigError, ParamError, ProtocolError
from app.logs import secret_safe_logger
from app.protocol.close_codes import CloseCode
from app.protocol.messages import (
    Control,
    Error,
    Metadata,
    Results,
    ServerMessage,
    encode_control,
    parse_server_message,
)
from app.protocol.params import StreamParams
from app.protocol.pcm import FloatArray, encode_pcm
from app.server.engines import DEEPGRAM_MODEL
from app.server.engines.base import Emit

log = logging.getLogger(__name__)
_wire_log = secret_safe_logger(__name__)  # the handshake carries the API key

DEEPGRAM_URL = "wss://api.deepgram.com/v1/listen"
# Clients send a frame every 0.1 s: no audio for longer is a pause, and Deepgram then holds its
# reply to the last audio until more comes. The stall clock stops this long after the last frame.
AUDIO_GAP_S = 0.5
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class DeepgramConfig:
    api_key: str = field(repr=False)  # never in a log line or a traceback
    url: str = DEEPGRAM_URL
    model: str = DEEPGRAM_MODEL
    # Other models a client may ask for with `model=` (its sessions are billed to this key).
    client_models: tuple[str, ...] = ()
    open_timeout_s: float = 5.0
    keepalive_s: float = 5.0  # Deepgram closes (NET-0001) after 10 s without data
    stall_timeout_s: float = 5.0  # audio flowing, no message for this long: stalled
    max_lag_s: float = 6.0  # results this far behind the audio sent: too slow to caption

    def __post_init__(self) -> None:
        # The key goes in the handshake: over plain ws:// anyone on the path could read it.
        parts = urlsplit(self.url)
        if parts.scheme == "wss" or (parts.scheme == "ws" and parts.hostname in _LOOPBACK):
            return
        raise ConfigError(
            f"the Deepgram URL must be wss:// (ws:// only to this computer): {self.url}"
        )

    @property
    def offered_models(self) -> tuple[str, ...]:
        """What `model=` may name: the configured model first, then the owner's others."""
        return tuple(dict.fromkeys((self.model, *self.client_models)))


@dataclass(frozen=True)
class ProviderFailure:
    """Why the provider cannot go on; `close_code` is ours for a session that cannot fail over."""

    code: str
    reason: str
    close_code: int = CloseCode.INTERNAL

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


def failure_for_status(status: int, body: str) -> ProviderFailure:
    if status in (401, 403):
        return ProviderFailure("PROVIDER_UNAUTHORIZED", f"Deepgram refused the API key ({status})")
    if status == 429:
        return ProviderFailure(
            "PROVIDER_RATE_LIMITED", "Deepgram is rate limiting (429)", CloseCode.TRY_LATER
        )
    if status == 400:
        return ProviderFailure(
            "PROVIDER_BAD_REQUEST", f"Deepgram refused the parameters: {body[:200]}"
        )
    return ProviderFailure("PROVIDER_UNAVAILABLE", f"Deepgram answered HTTP {status}")


def failure_for_close(code: int, reason: str) -> ProviderFailure:
    if code == 1008:  # DATA-0000: Deepgram could not decode the audio
        return ProviderFailure(
            "PROVIDER_BAD_DATA", f"Deepgram could not use the audio ({reason})", CloseCode.POLICY
        )
    if code == 1011 and reason.startswith("NET-0001"):
        return ProviderFailure("PROVIDER_TIMEOUT", "Deepgram received no audio in time")
    return ProviderFailure(
        "PROVIDER_CLOSED", f"Deepgram closed the stream ({code} {reason})".strip()
    )


def deepgram_query(params: StreamParams, model: str) -> dict[str, str | list[str]]:
    """Deepgram's query for a session (encode with `urlencode(doseq=True)`).

    `diarize` goes up as the client sent it; Deepgram's `speaker` labels come back on the words.
    `max_speakers` stays here: Deepgram has no speaker count (the local engine honours it).
    """
    query = params.to_query()
    query.pop("stream_offset", None)  # ours, not Deepgram's
    query.pop("max_speakers", None)
    query["model"] = chosen = params.model or model
    query["punctuate"] = "true"
    terms = query.pop("keyterm", None)
    if terms:
        # Keyterm prompting is Nova-3's (and Flux's); older models take the same words as
        # `keywords` (without a boost).
        modern = chosen.startswith(("nova-3", "flux"))
        query["keyterm" if modern else "keywords"] = terms
    return query


class DeepgramSession:
    def __init__(
        self,
        config: DeepgramConfig,
        params: StreamParams,
        emit: Emit,
        on_failure: Callable[[ProviderFailure], None] | None = None,
    ) -> None:
        self.config = config
        self.params = params
        self.emit = emit
        self.on_failure = on_failure
        self.failure: ProviderFailure | None = None
        self.connected = asyncio.get_running_loop().create_future()
        self._outbox: asyncio.Queue[bytes | str] = asyncio.Queue()
        self._queued_bytes = 0
        self._sent_s = 0.0
        self._heard_s = 0.0  # end of the latest result: how far the provider has got
        self._last_audio = 0.0  # when audio was last sent
        self._waiting_since: float | None = None  # audio sent with nothing heard back since
        self._unanswered_s = 0.0  # of that time, how long audio kept flowing: the stall clock
        self._closing = False
        self._task = asyncio.create_task(self._run())

    # -- EngineSession ---------------------------------------------------------------------
    def feed(self, channels: list[FloatArray]) -> None:
        audio = channels[0] if len(channels) == 1 else np.stack(channels, axis=1)
        pcm = encode_pcm(audio)
        self._queued_bytes += len(pcm)
        self._outbox.put_nowait(pcm)

    def finalize(self) -> None:
        self._outbox.put_nowait(encode_control(Control.FINALIZE))

    async def close(self) -> None:
        """CloseStream upstream and wait for its last results (or its failure)."""
        if not self._closing:
            self._closing = True
            self._outbox.put_nowait(encode_control(Control.CLOSE_STREAM))
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(self._task)

    def abort(self) -> None:
        self._closing = True
        self._task.cancel()

    @property
    def backlog_s(self) -> float:
        return self._queued_bytes / (2 * self.params.channels * self.params.sample_rate)

    # -- the connection --------------------------------------------------------------------
    def _fail(self, failure: ProviderFailure) -> None:
        if self.failure is not None:
            return
        self.failure = failure
        log.info("deepgram session failed: %s", failure)
        if not self.connected.done():
            self.connected.set_result(False)
        if self.on_failure is not None:
            self.on_failure(failure)
        else:
            self.emit(Error(failure.code, failure.reason, failure.close_code))

    async def _run(self) -> None:
        query = urlencode(deepgram_query(self.params, self.config.model), doseq=True)
        url = f"{self.config.url}?{query}"
        try:
            ws = await connect(
                url,
                additional_headers={"Authorization": f"Token {self.config.api_key}"},
                open_timeout=self.config.open_timeout_s,
                ping_interval=5,
                ping_timeout=5,
                close_timeout=2,
                logger=_wire_log,
            )
        except InvalidStatus as exc:
            body = bytes(exc.response.body or b"").decode("utf-8", "replace")
            self._fail(failure_for_status(exc.response.status_code, body))
            return
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            reason = redact(str(exc) or type(exc).__name__, self.config.api_key)
            self._fail(ProviderFailure("PROVIDER_UNREACHABLE", f"cannot reach Deepgram: {reason}"))
            return
        self.connected.set_result(True)
        tasks = [
            asyncio.create_task(self._send(ws)),
            asyncio.create_task(self._watch()),
        ]
        try:
            await self._receive(ws)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await ws.close()

    async def _send(self, ws: ClientConnection) -> None:
        bytes_per_s = 2 * self.params.channels * self.params.sample_rate
        while True:
            try:
                item = await asyncio.wait_for(self._outbox.get(), self.config.keepalive_s)
            except TimeoutError:
                await ws.send(encode_control(Control.KEEP_ALIVE))
                continue
            if isinstance(item, bytes):
                self._queued_bytes -= len(item)
                self._sent_s += len(item) / bytes_per_s
                self._last_audio = time.monotonic()
                if self._waiting_since is None:
                    self._waiting_since = self._last_audio
            with contextlib.suppress(ConnectionClosed):
                await ws.send(item)

    async def _watch(self) -> None:
        """Stall and lag: judged on our clock, since a stalled provider sends nothing.

        The stall clock runs only while audio flows: paused (no audio sent), Deepgram owes no
        reply, and a Pause of any length must never look like a stall.
        """
        checked = time.monotonic()
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            waiting = self._waiting_since
            if waiting is not None:
                flowing_until = min(now, self._last_audio + AUDIO_GAP_S)
                self._unanswered_s += max(0.0, flowing_until - max(checked, waiting))
            checked = now
            if self._unanswered_s > self.config.stall_timeout_s:
                self._fail(
                    ProviderFailure(
                        "PROVIDER_STALLED",
                        f"no reply from Deepgram for {self.config.stall_timeout_s:g} s",
                    )
                )
                return
            lag = self._sent_s - self._heard_s
            if self._heard_s > 0 and lag > self.config.max_lag_s:
                self._fail(ProviderFailure("PROVIDER_SLOW", f"Deepgram replies {lag:.1f} s behind"))
                return

    async def _receive(self, ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                if self.failure is not None:
                    return
                self._waiting_since = None
                self._unanswered_s = 0.0
                if isinstance(frame, bytes):
                    continue
                try:
                    message = parse_server_message(frame)
                except ProtocolError as exc:
                    self._fail(ProviderFailure("PROVIDER_PROTOCOL", exc.reason))
                    return
                self._relay(message)
        except ConnectionClosed as exc:
            if exc.rcvd is not None and exc.rcvd.code == 1000 and self._closing:
                return
            if exc.rcvd is not None:
                self._fail(failure_for_close(exc.rcvd.code, exc.rcvd.reason))
            else:
                self._fail(
                    ProviderFailure("PROVIDER_CLOSED", "the connection to Deepgram was lost")
                )
            return
        if not self._closing and self.failure is None:
            self._fail(ProviderFailure("PROVIDER_CLOSED", "Deepgram ended the stream"))

    def _relay(self, message: ServerMessage | None) -> None:
        if message is None or isinstance(message, Metadata):
            return  # our server sends its own Metadata at the end
        if isinstance(message, Error):
            self._fail(ProviderFailure("PROVIDER_ERROR", f"{message.code} {message.message}"))
            return
        if isinstance(message, Results):
            self._heard_s = max(self._heard_s, message.start + message.duration)
        self.emit(message)


class DeepgramEngine:
    name = "deepgram"

    def __init__(self, config: DeepgramConfig) -> None:
        self.config = config
        self.model_name = config.model
        self.selection_note = ""  # the user named the model

    def check_params(self, params: StreamParams) -> None:
        # Deepgram takes every rate and language we accept; the model is the owner's choice.
        offered = self.config.offered_models
        if params.model is not None and params.model not in offered:
            offers = ", ".join(offered)
            raise ParamError(
                "model", params.model, f"not offered by this server (it offers {offers})"
            )

    def open_session(
        self,
        params: StreamParams,
        emit: Emit,
        on_failure: Callable[[ProviderFailure], None] | None = None,
    ) -> DeepgramSession:
        return DeepgramSession(self.config, params, emit, on_failure)

    async def aclose(self) -> None:
        return None
