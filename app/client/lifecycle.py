"""ReconnectingStream: one captioning stream that survives lost connections without losing words.

The audio producer pushes PCM into a bounded ring (never blocks). A connection takes audio from
the ring; when it dies, the stream reconnects with backoff, replays the audio since the end of
the last final (words in flight are not lost), drains what was captured meanwhile faster than
real time, and shifts every timestamp onto the stream's clock. Overflow drops the oldest audio,
and the gap is reported with its length. States: connecting, streaming, reconnecting, failed.

This is the driver: sockets, tasks, sleeps and the clock. What to do and when is decided by
the pure LinkMachine (app/client/link_machine.py), fed every event with `time.monotonic()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

from app.client.link_machine import (
    FINAL_CLOSE_CODES,
    RETRYABLE_HTTP,
    Action,
    Confirm,
    Deliver,
    Drop,
    GiveUp,
    LinkConfig,
    LinkMachine,
    LinkState,
    LinkStats,
    OutageBegan,
    Reconnect,
    ReportGaps,
    SendCloseStream,
    SendKeepAlive,
    Stalled,
    StateChanged,
)
from app.client.ring import AudioRing, Gap
from app.client.streamer import StreamClient
from app.errors import ClientError
from app.protocol.messages import Control, ServerMessage, encode
from app.protocol.params import StreamParams

__all__ = [
    "FINAL_CLOSE_CODES",
    "RETRYABLE_HTTP",
    "LinkConfig",
    "LinkState",
    "LinkStats",
    "ReconnectingStream",
]

log = logging.getLogger(__name__)

StateCallback = Callable[[LinkState, str], None]
GapCallback = Callable[[Gap], None]


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
        self.machine = LinkMachine(self.config, params.channels, rng=rng, now=time.monotonic())
        self._gaps_reported = 0
        self._audio = asyncio.Event()
        self._drained = asyncio.Event()  # set when audio was sent or settled
        self._aborts: set[asyncio.Future[None]] = set()

    @property
    def state(self) -> LinkState:
        return self.machine.state

    @property
    def stats(self) -> LinkStats:
        return self.machine.stats

    # -- producer side ---------------------------------------------------------------------
    def push(self, pcm: bytes) -> None:
        """Captured audio; never blocks. Beyond the ring's capacity the oldest audio goes."""
        self.ring.append(pcm)
        self._audio.set()

    def finish(self) -> None:
        """No more audio: send what is held, CloseStream, and end `messages()`."""
        self._run(self.machine.finish(time.monotonic()))
        self._audio.set()

    def pause(self) -> None:
        """The audio stops on purpose (the user's Pause): KeepAlives go on, and the server's
        silence until audio comes again is not a stall."""
        self._run(self.machine.pause(time.monotonic()))

    def resume(self) -> None:
        self._run(self.machine.resume(time.monotonic()))

    async def wait_for_room(self, ahead_s: float) -> None:
        """Backpressure for sources that can wait (files): nothing is dropped. Holds back
        while more than `ahead_s` is unsent, and while the server has not settled what a
        reconnect could replay (`replay_cover_s`), so a lost connection loses no audio. A
        server silent for `quiet_server_s` (one that does not report progress) is not waited for."""
        while self.machine.holds_back(
            time.monotonic(), ahead_s, self.ring.unsent_s, self.ring.unsettled_s
        ):
            self._drained.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), 1.0)

    @property
    def lost_s(self) -> float:
        return self.ring.lost_s

    # -- carrying out the machine's decisions ----------------------------------------------
    def _run(self, actions: list[Action]) -> None:
        """The decisions that need no socket; the send loop and `frames` take the others."""
        for action in actions:
            if isinstance(action, StateChanged):
                self.on_state(action.state, action.detail)
            elif isinstance(action, OutageBegan):
                self.ring.connection_lost()  # all held audio goes to the next server
            elif isinstance(action, ReportGaps):
                self._report_gaps()
            elif isinstance(action, Confirm):
                self._confirm(action.settled_s)
            elif isinstance(action, GiveUp):
                self._drained.set()  # a waiting source learns the stream failed
            elif isinstance(action, Stalled):
                log.info("the server has said nothing for %.1f s of audio", action.silent_s)
            elif isinstance(action, Drop):
                raise action.error

    def _report_gaps(self) -> None:
        gaps = self.ring.gaps
        for gap in gaps[self._gaps_reported :]:
            self.on_gap(gap)
        self._gaps_reported = len(gaps)
        self.ring.seal_gaps()

    def _confirm(self, settled_s: float) -> None:
        self.ring.confirm(self.ring.frame_at(settled_s))
        self.ring.release(self.ring.sent - self.ring.frame_at(self.config.replay_cover_s))
        self._drained.set()

    # -- connection loop -------------------------------------------------------------------
    async def messages(self) -> AsyncIterator[ServerMessage]:
        """Server messages on the stream's clock, across reconnects, until the stream ends."""
        async for _, message in self.frames():
            if message is not None:
                yield message

    async def frames(self) -> AsyncIterator[tuple[str, ServerMessage | None]]:
        """Each text frame with its parsed message, both on the stream's clock.

        Raises the last ClientError when the server refuses for good or stays unreachable.
        """
        while True:
            try:
                # The ring holds nothing older than the machine's point, but maybe less.
                replay = self.machine.replay_from()
                resume_at = self.ring.seconds(self.ring.rewind(self.ring.frame_at(replay.seconds)))
                client = StreamClient(
                    self.url,
                    replace(self.params, stream_offset_s=resume_at),
                    token=self.token,
                    open_timeout=self.config.open_timeout_s,
                    ping_interval=self.config.ping_interval_s,
                    ping_timeout=self.config.ping_timeout_s,
                )
                async with client:
                    self._run(self.machine.connected(time.monotonic(), resume_at))
                    async for frame in self._session(client):
                        yield frame
                    self._run(self.machine.ended(time.monotonic(), self.ring.unsent_s))
                    return  # closed; an early end raised above
            except ClientError as exc:
                actions = self.machine.lost(time.monotonic(), exc)
                self._run(actions)
                delays = [action.after_s for action in actions if isinstance(action, Reconnect)]
                if not delays:  # given up
                    raise
                log.info("stream lost (%s); reconnecting in %.1f s", exc, delays[0])
                await asyncio.sleep(delays[0])

    async def _session(
        self, client: StreamClient
    ) -> AsyncIterator[tuple[str, ServerMessage | None]]:
        sender = asyncio.create_task(self._send_loop(client))
        # A sender that fails ends the connection, so the receiving side sees it too.
        sender.add_done_callback(lambda task: self._abort_on_failure(task, client))
        try:
            async for raw, received in client.frames():
                message: ServerMessage | None = None
                for action in self.machine.received(time.monotonic(), received):
                    if isinstance(action, Deliver):
                        message = action.message
                    else:
                        self._run([action])
                if message is not None and message is not received:
                    raw = encode(message)  # shifted or trimmed: the frame must say the same
                yield raw, message
            if not sender.done():
                sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender  # surfaces a send failure
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ClientError):
                await sender

    async def _send_loop(self, client: StreamClient) -> None:
        live_frames = max(1, round(self.params.sample_rate * self.config.frame_s))
        drain_frames = max(1, round(self.params.sample_rate * self.config.drain_frame_s))
        opened = time.monotonic()
        sent_s = 0.0  # on this connection, as the server's rate limit counts it
        while True:
            if self.ring.unsent_s > 0:
                catching_up = self.ring.unsent_s > 2 * self.config.frame_s
                frames = drain_frames if catching_up else live_frames
                if self.ring.unsent_s < self.config.frame_s and not self.machine.finishing:
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
                sent_until_s = self.ring.seconds(self.ring.sent)
                self._run(self.machine.audio_sent(time.monotonic(), sent_until_s))
                if self.ring.unsent_s < self.config.frame_s * 2:
                    self._drained.set()
                continue
            self._drained.set()
            actions = self.machine.tick(time.monotonic())
            self._run(actions)
            if any(isinstance(action, SendCloseStream) for action in actions):
                await client.send_control(Control.CLOSE_STREAM)
                return
            if any(isinstance(action, SendKeepAlive) for action in actions):
                await client.send_control(Control.KEEP_ALIVE)
                continue
            await self._wait_audio(self.machine.keepalive_in(time.monotonic()))

    async def _wait_audio(self, seconds: float) -> None:
        self._audio.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._audio.wait(), seconds)

    def _abort_on_failure(self, task: asyncio.Task[None], client: StreamClient) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._aborts.add(aborting := asyncio.ensure_future(client.abort()))
            aborting.add_done_callback(self._aborts.discard)
