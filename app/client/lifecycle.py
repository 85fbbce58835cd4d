"""ReconnectingStream: one captioning stream that survives lost connections without losing words.

The audio producer pushes PCM into a bounded ring (never blocks). A connection takes audio from
the ring; when it dies, the stream reconnects with backoff, replays the audio since the end of
the last final (words in flight are not lost), drains what was captured meanwhile faster than
real time, and shifts every timestamp onto the stream's clock. Overflow drops the oldest audio,
and the gap is reported with its length. States: connecting, streaming, reconnecting, failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from enum import Enum

from app.client.backoff import Backoff
from app.client.ring import AudioRing, Gap
from app.client.streamer import StreamClient
from app.errors import ClientError, HandshakeRejected, ServerClosed, ServerUnavailable
from app.protocol.close_codes import CloseCode
from app.protocol.messages import Control, Results, ServerMessage, encode
from app.protocol.params import StreamParams
from app.protocol.timeline import REPLAY_CONTEXT_S, shifted, without_settled_words

log = logging.getLogger(__name__)

# Refusals that a retry cannot fix: bad request, auth, wrong path, policy.
RETRYABLE_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})
FINAL_CLOSE_CODES = frozenset(
    {1002, 1003, 1007, 1008, 1009, 1010, CloseCode.RATE_LIMIT, 4400, 4401, 4403}
)


class LinkState(Enum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    CLOSED = "closed"


@dataclass(frozen=True)
class LinkConfig:
    ring_s: float = 120.0  # audio held while disconnected (and for replay)
    replay_cover_s: float = 30.0  # sent audio kept for replay when no final settles it
    replay_context_s: float = REPLAY_CONTEXT_S  # settled audio a replay starts with
    # A file waits for the server to settle; one silent this long does not report progress.
    quiet_server_s: float = 10.0
    frame_s: float = 0.1  # live frames, as Deepgram recommends
    drain_frame_s: float = 0.5  # larger frames while catching up after an outage
    keepalive_s: float = 4.0  # a KeepAlive after this long without audio (pause, silence)
    # A dead peer is noticed within interval + timeout + the 1 s close timeout: 7 s.
    ping_interval_s: float = 2.5
    ping_timeout_s: float = 3.5
    open_timeout_s: float = 5.0
    backoff_initial_s: float = 0.5
    backoff_cap_s: float = 4.0  # a restarted server is found again within seconds
    give_up_after_s: float | None = 300.0  # continuously unreachable this long: failed
    # Before the first connection (None: as above). A command-line run wants a fast answer
    # for a mistyped URL; the app keeps trying and shows it.
    first_connect_give_up_s: float | None = None


@dataclass
class LinkStats:
    connects: int = 0
    replayed_s: float = 0.0
    outages: list[float] = field(default_factory=list)  # seconds from loss to streaming again
    last_error: str = ""


StateCallback = Callable[[LinkState, str], None]
GapCallback = Callable[[Gap], None]


def _retryable(exc: ClientError) -> bool:
    if isinstance(exc, HandshakeRejected):
        return exc.status in RETRYABLE_HTTP
    if isinstance(exc, ServerClosed):
        return exc.code not in FINAL_CLOSE_CODES
    return isinstance(exc, ServerUnavailable)


class ReconnectingStream:
    def __init__(
        self,
        url: str,
        params: StreamParams,
        *,
        token: str | None = None,
        config: LinkConfig | None = None,
        on_state: StateCallback | None = None,
        on_gap: GapCallback | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self.params = params
        self.token = token
        self.config = config or LinkConfig()
        self.on_state = on_state or (lambda state, detail: None)
        self.on_gap = on_gap or (lambda gap: None)
        self.ring = AudioRing(
            self.config.ring_s,
            params.sample_rate,
            params.channels,
            lead_in_s=self.config.replay_context_s,
        )
        self.backoff = Backoff(
            initial_s=self.config.backoff_initial_s,
            cap_s=self.config.backoff_cap_s,
            rng=rng or random.Random(),
        )
        self.state = LinkState.CONNECTING
        self.stats = LinkStats()
        self._settled_s = [0.0] * params.channels  # end of the last final, per channel
        self._offset_s = 0.0  # stream time of this connection's first sample
        self._gaps_reported = 0
        self._sent_at_loss: int | None = None
        self._audio = asyncio.Event()
        self._finishing = False
        self._drained = asyncio.Event()  # set when audio was sent or settled
        self._heard_at = time.monotonic()  # the server's last message
        self._aborts: set[asyncio.Future[None]] = set()

    # -- producer side ---------------------------------------------------------------------
    def push(self, pcm: bytes) -> None:
        """Captured audio; never blocks. Beyond the ring's capacity the oldest audio goes."""
        self.ring.append(pcm)
        self._audio.set()

    def finish(self) -> None:
        """No more audio: send what is held, CloseStream, and end `messages()`."""
        self._finishing = True
        self._audio.set()

    async def wait_for_room(self, ahead_s: float) -> None:
        """Backpressure for sources that can wait (files): nothing is dropped. Holds back
        while more than `ahead_s` is unsent, and while the server has not settled what a
        reconnect could replay (`replay_cover_s`), so a lost connection loses no audio. A
        server silent for `quiet_server_s` (one that does not report progress) is not waited for."""
        while self.state is not LinkState.FAILED:
            unsettled_limit = max(ahead_s, self.config.replay_cover_s - ahead_s)
            waiting_on_server = (
                self.ring.unsettled_s > unsettled_limit
                and time.monotonic() - self._heard_at < self.config.quiet_server_s
            )
            if self.ring.unsent_s <= ahead_s and not waiting_on_server:
                return
            self._drained.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), 1.0)

    @property
    def lost_s(self) -> float:
        return self.ring.lost_s

    # -- connection loop -------------------------------------------------------------------
    def _set_state(self, state: LinkState, detail: str = "") -> None:
        self.state = state
        self.on_state(state, detail)

    async def messages(self) -> AsyncIterator[ServerMessage]:
        """Server messages on the stream's clock, across reconnects, until the stream ends."""
        async for _, message in self.frames():
            if message is not None:
                yield message

    async def frames(self) -> AsyncIterator[tuple[str, ServerMessage | None]]:
        """Each text frame with its parsed message, both on the stream's clock.

        Raises the last ClientError when the server refuses for good or stays unreachable.
        """
        down_since: float | None = None
        while True:
            try:
                resume_at = self.ring.seconds(self.ring.rewind(self.ring.start))
                client = StreamClient(
                    self.url,
                    replace(self.params, stream_offset_s=resume_at),
                    token=self.token,
                    open_timeout=self.config.open_timeout_s,
                    ping_interval=self.config.ping_interval_s,
                    ping_timeout=self.config.ping_timeout_s,
                )
                async with client:
                    self._connected(down_since)
                    down_since = None
                    async for frame in self._session(client):
                        yield frame
                    if self._finishing and self.ring.unsent_s == 0:
                        self._report_gaps()
                        self._set_state(LinkState.CLOSED)
                        return
                    raise ServerClosed(1000, "server ended the stream early")
            except ClientError as exc:
                self.stats.last_error = str(exc)
                if down_since is None:
                    down_since = time.monotonic()
                    self._sent_at_loss = self.ring.sent
                    self.ring.connection_lost()  # all held audio goes to the next server
                if not _retryable(exc) or self._gave_up(down_since):
                    self._set_state(LinkState.FAILED, str(exc))
                    self._drained.set()
                    raise
                delay = self.backoff.next_delay()
                self._set_state(
                    LinkState.RECONNECTING if self.stats.connects else LinkState.CONNECTING,
                    f"{exc}; retrying in {delay:.1f} s (attempt {self.backoff.attempt})",
                )
                log.info("stream lost (%s); reconnecting in %.1f s", exc, delay)
                await asyncio.sleep(delay)

    def _gave_up(self, down_since: float) -> bool:
        limit = self.config.give_up_after_s
        if self.stats.connects == 0 and self.config.first_connect_give_up_s is not None:
            limit = self.config.first_connect_give_up_s
        return limit is not None and time.monotonic() - down_since > limit

    def _connected(self, down_since: float | None) -> None:
        self.stats.connects += 1
        start = self.ring.rewind(self.ring.start)
        self._offset_s = self.ring.seconds(start)
        if self._sent_at_loss is not None:
            self.stats.replayed_s += max(0.0, self.ring.seconds(self._sent_at_loss - start))
            self._sent_at_loss = None
        if down_since is not None:
            self.stats.outages.append(time.monotonic() - down_since)
        self.backoff.reset()
        self._report_gaps()
        self._set_state(LinkState.STREAMING)

    def _report_gaps(self) -> None:
        gaps = self.ring.gaps
        for gap in gaps[self._gaps_reported :]:
            self.on_gap(gap)
        self._gaps_reported = len(gaps)
        self.ring.seal_gaps()

    async def _session(
        self, client: StreamClient
    ) -> AsyncIterator[tuple[str, ServerMessage | None]]:
        sender = asyncio.create_task(self._send_loop(client))
        # A sender that fails ends the connection, so the receiving side sees it too.
        sender.add_done_callback(lambda task: self._abort_on_failure(task, client))
        try:
            async for raw, received in client.frames():
                self._heard_at = time.monotonic()
                if received is None:
                    yield raw, None
                    continue
                message = shifted(received, self._offset_s)
                if isinstance(message, Results):
                    message = self._settle(message)
                yield (raw if message is received else encode(message)), message
            if not sender.done():
                sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender  # surfaces a send failure
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ClientError):
                await sender

    def _settle(self, results: Results) -> Results:
        channel = min(results.channel, len(self._settled_s) - 1)
        results = without_settled_words(results, self._settled_s[channel])
        if results.is_final:
            self._settled_s[channel] = max(
                self._settled_s[channel], results.start + results.duration
            )
            self._confirm()
        return results

    def _confirm(self) -> None:
        self.ring.confirm(self.ring.frame_at(min(self._settled_s)))
        self.ring.release(self.ring.sent - self.ring.frame_at(self.config.replay_cover_s))
        self._drained.set()

    async def _send_loop(self, client: StreamClient) -> None:
        live_frames = max(1, round(self.params.sample_rate * self.config.frame_s))
        drain_frames = max(1, round(self.params.sample_rate * self.config.drain_frame_s))
        last_sent = opened = time.monotonic()
        sent_s = 0.0  # on this connection, as the server's rate limit counts it
        while True:
            if self.ring.unsent_s > 0:
                catching_up = self.ring.unsent_s > 2 * self.config.frame_s
                frames = drain_frames if catching_up else live_frames
                if self.ring.unsent_s < self.config.frame_s and not self._finishing:
                    await self._wait_audio(self.config.frame_s)
                    continue
                _, pcm = self.ring.take(frames)
                chunk_s = len(pcm) / self.ring.frame_bytes / self.params.sample_rate
                if client.audio_rate is not None:  # stay under the server's limit (files)
                    wait = client.audio_rate.wait_s(sent_s, chunk_s, time.monotonic() - opened)
                    if wait > 0:
                        await asyncio.sleep(wait)
                await client.send_audio(pcm)
                sent_s += chunk_s
                last_sent = time.monotonic()
                self._confirm()
                if self.ring.unsent_s < self.config.frame_s * 2:
                    self._drained.set()
                continue
            self._drained.set()
            if self._finishing:
                await client.send_control(Control.CLOSE_STREAM)
                return
            idle = time.monotonic() - last_sent
            if idle >= self.config.keepalive_s:
                await client.send_control(Control.KEEP_ALIVE)
                last_sent = time.monotonic()
                continue
            await self._wait_audio(self.config.keepalive_s - idle)

    async def _wait_audio(self, seconds: float) -> None:
        self._audio.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._audio.wait(), seconds)

    def _abort_on_failure(self, task: asyncio.Task[None], client: StreamClient) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._aborts.add(aborting := asyncio.ensure_future(client.abort()))
            aborting.add_done_callback(self._aborts.discard)
