"""The client's link as a pure state machine: the rules of a stream that survives lost links.

No sockets, no asyncio, no clock of its own: every event carries `now` (monotonic seconds) and
every decision comes back as a plain value for the driver (ReconnectingStream) to carry out.
The rules: when to reconnect and after how long (capped backoff with jitter), from where to
replay (the last final's end, less some context), which words are already settled (per
channel), when a KeepAlive is due, when the server has stalled, when to give up, and how far a
file may run ahead of the server. So they are tested in milliseconds, without a socket.

Events: connected, lost, received, audio_sent, tick, pause, resume, finish, ended.
Actions: StateChanged, Reconnect, GiveUp, OutageBegan, ReportGaps, Confirm, Deliver,
SendKeepAlive, SendCloseStream, Stalled, Drop. Queries: replay_from, keepalive_in, holds_back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum

from app.client.backoff import Backoff
from app.errors import ClientError, HandshakeRejected, ServerClosed, ServerUnavailable
from app.protocol.close_codes import CloseCode
from app.protocol.messages import Results, ServerMessage
from app.protocol.timeline import REPLAY_CONTEXT_S, shifted, without_settled_words

# Refusals that a retry cannot fix: bad request, auth, wrong path, policy.
RETRYABLE_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})
FINAL_CLOSE_CODES = frozenset(
    {1002, 1003, 1007, 1008, 1009, 1010, CloseCode.RATE_LIMIT, 4400, 4401, 4403}
)
EARLY_END = "server ended the stream early"


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
    # Silent this long while audio flows to it, the server has stalled (reported, see Stalled).
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
    stalls: int = 0  # times the server went silent while audio flowed to it


# -- actions: what the driver is to do -------------------------------------------------------
@dataclass(frozen=True)
class StateChanged:
    state: LinkState
    detail: str = ""


@dataclass(frozen=True)
class Reconnect:
    """Wait `after_s`, then connect again (from `replay_from()`)."""

    after_s: float
    attempt: int


@dataclass(frozen=True)
class GiveUp:
    """The stream has failed for good: raise the error that ended it."""

    reason: str


@dataclass(frozen=True)
class OutageBegan:
    """The link is gone: audio sent but never settled is lost, the rest waits for the next."""


@dataclass(frozen=True)
class ReportGaps:
    """The audio lost so far is known for good: report it."""


@dataclass(frozen=True)
class Confirm:
    """Every channel is settled up to `settled_s`: audio before it need not be replayed."""

    settled_s: float


@dataclass(frozen=True)
class Deliver:
    """A server message on the stream's clock, words already settled removed."""

    message: ServerMessage


@dataclass(frozen=True)
class SendKeepAlive:
    pass


@dataclass(frozen=True)
class SendCloseStream:
    pass


@dataclass(frozen=True)
class Stalled:
    """The server has said nothing for `silent_s` of audio flowing to it. Reported once per
    silence; a dead peer is the pings' to find, a live but stuck one is only reported."""

    silent_s: float


@dataclass(frozen=True)
class Drop:
    """End this connection as failed with `error` (the driver then reports it as `lost`)."""

    error: ClientError


Action = (
    StateChanged
    | Reconnect
    | GiveUp
    | OutageBegan
    | ReportGaps
    | Confirm
    | Deliver
    | SendKeepAlive
    | SendCloseStream
    | Stalled
    | Drop
)


@dataclass(frozen=True)
class ReplayFrom:
    """Where the next connection starts, in stream seconds: `replay_context_s` before the
    point every channel has settled (`settled_s`), so the engine hears the sentence's start."""

    seconds: float
    settled_s: float


def retryable(error: ClientError) -> bool:
    if isinstance(error, HandshakeRejected):
        return error.status in RETRYABLE_HTTP
    if isinstance(error, ServerClosed):
        return error.code not in FINAL_CLOSE_CODES
    return isinstance(error, ServerUnavailable)


class LinkMachine:
    def __init__(
        self,
        config: LinkConfig,
        channels: int = 1,
        *,
        rng: random.Random | None = None,
        now: float = 0.0,
    ) -> None:
        self.config = config
        self.backoff = Backoff(
            initial_s=config.backoff_initial_s,
            cap_s=config.backoff_cap_s,
            rng=rng or random.Random(),
        )
        self.state = LinkState.CONNECTING
        self.stats = LinkStats()
        self.settled_s = [0.0] * channels  # end of the last final, per channel
        self.offset_s = 0.0  # stream time of this connection's first sample
        self.finishing = False
        self.paused = False
        self._down_since: float | None = None  # when the current outage began
        self._sent_until_s = 0.0  # stream time sent so far
        self._heard_at = now  # the server's last message
        self._last_sent_at = now  # the last audio or KeepAlive on this connection
        self._audio_at: float | None = None  # the last audio on this connection
        self._flowing_since: float | None = None  # audio flowing without a pause since
        self._stalled = False  # reported; not again until the server speaks
        self._close_sent = False

    # -- queries ---------------------------------------------------------------------------
    def replay_from(self) -> ReplayFrom:
        """From where the next connection sends: the driver's audio ring may start later
        (audio it could not hold), never earlier."""
        settled = min(self.settled_s)
        return ReplayFrom(max(0.0, settled - self.config.replay_context_s), settled)

    def keepalive_in(self, now: float) -> float:
        return max(0.0, self.config.keepalive_s - (now - self._last_sent_at))

    def holds_back(self, now: float, ahead_s: float, unsent_s: float, unsettled_s: float) -> bool:
        """Whether a source that can wait (a file) waits: while more than `ahead_s` is unsent,
        or while the server has not settled what a reconnect could replay (`replay_cover_s`)
        unless it has been quiet `quiet_server_s` (it does not report progress). Never once
        the stream has failed."""
        if self.state is LinkState.FAILED:
            return False
        unsettled_limit = max(ahead_s, self.config.replay_cover_s - ahead_s)
        waiting_on_server = (
            unsettled_s > unsettled_limit and now - self._heard_at < self.config.quiet_server_s
        )
        return unsent_s > ahead_s or waiting_on_server

    # -- events ----------------------------------------------------------------------------
    def connected(self, now: float, from_s: float) -> list[Action]:
        """A connection is open; it starts at stream time `from_s` (where the ring rewound)."""
        self.stats.connects += 1
        self.offset_s = from_s
        if self._down_since is not None:  # nothing was sent meanwhile: sent is as at the loss
            self.stats.replayed_s += max(0.0, self._sent_until_s - from_s)
            self.stats.outages.append(now - self._down_since)
            self._down_since = None
        self.backoff.reset()
        self._sent_until_s = from_s
        self._last_sent_at = now
        self._audio_at = self._flowing_since = None
        self._stalled = self._close_sent = False
        return [ReportGaps(), *self._enter(LinkState.STREAMING)]

    def lost(self, now: float, error: ClientError) -> list[Action]:
        """A connection attempt failed, or an open connection ended with `error`."""
        self.stats.last_error = str(error)
        actions: list[Action] = []
        if self._down_since is None:
            self._down_since = now
            actions.append(OutageBegan())
        if not retryable(error) or self._gave_up(now, self._down_since):
            return [*actions, *self._enter(LinkState.FAILED, str(error)), GiveUp(str(error))]
        delay = self.backoff.next_delay()
        attempt = self.backoff.attempt
        state = LinkState.RECONNECTING if self.stats.connects else LinkState.CONNECTING
        detail = f"{error}; retrying in {delay:.1f} s (attempt {attempt})"
        return [*actions, *self._enter(state, detail), Reconnect(delay, attempt)]

    def received(self, now: float, message: ServerMessage | None) -> list[Action]:
        """A frame from the server (None: one of a type the client does not know)."""
        self._heard_at = now
        self._stalled = False
        if message is None:
            return []
        message = shifted(message, self.offset_s)
        if not isinstance(message, Results):
            return [Deliver(message)]
        channel = min(message.channel, len(self.settled_s) - 1)
        message = without_settled_words(message, self.settled_s[channel])
        if not message.is_final:
            return [Deliver(message)]
        end = message.start + message.duration
        self.settled_s[channel] = max(self.settled_s[channel], end)
        return [Confirm(min(self.settled_s)), Deliver(message)]

    def audio_sent(self, now: float, until_s: float) -> list[Action]:
        """Audio up to stream time `until_s` has gone to the server."""
        idle = self._audio_at is None or now - self._audio_at >= self.config.keepalive_s
        if self._flowing_since is None or idle:  # after a pause the server's silence is new
            self._flowing_since = now
        self.paused = False
        self._audio_at = self._last_sent_at = now
        self._sent_until_s = until_s
        # The ring confirms only audio it has sent: after a rewind, settled audio goes as the
        # replay passes it again.
        return [Confirm(min(self.settled_s)), *self._stall()]

    def tick(self, now: float) -> list[Action]:
        """Time passes with no audio left to send."""
        if self.state is not LinkState.STREAMING:
            return []
        if self.finishing:
            if self._close_sent:
                return []
            self._close_sent = True
            return [SendCloseStream()]
        if now - self._last_sent_at >= self.config.keepalive_s:  # paused or silent
            self._last_sent_at = now
            return [SendKeepAlive()]
        return self._stall()

    def pause(self, now: float) -> list[Action]:
        """The audio stops on purpose: the server's silence from here on is not a stall."""
        self.paused = True
        self._flowing_since = None
        return []

    def resume(self, now: float) -> list[Action]:
        self.paused = False
        return []

    def finish(self, now: float) -> list[Action]:
        """No more audio: once all is sent, CloseStream; the server's close then ends it."""
        self.finishing = True
        return []

    def ended(self, now: float, unsent_s: float) -> list[Action]:
        """The server closed the connection normally."""
        if self.finishing and unsent_s == 0:
            return [ReportGaps(), *self._enter(LinkState.CLOSED)]
        return [Drop(ServerClosed(1000, EARLY_END))]

    # -- rules -----------------------------------------------------------------------------
    def _enter(self, state: LinkState, detail: str = "") -> list[Action]:
        self.state = state
        return [StateChanged(state, detail)]

    def _gave_up(self, now: float, down_since: float) -> bool:
        limit = self.config.give_up_after_s
        if self.stats.connects == 0 and self.config.first_connect_give_up_s is not None:
            limit = self.config.first_connect_give_up_s
        return limit is not None and now - down_since > limit

    def _stall(self) -> list[Action]:
        """Silence counts only while audio flows (up to the last audio sent): a pause, in
        which Deepgram holds its reply until more audio comes, never makes a stall."""
        if self._stalled or self._flowing_since is None or self._audio_at is None:
            return []
        if self.state is not LinkState.STREAMING:
            return []
        silent_s = self._audio_at - max(self._heard_at, self._flowing_since)
        if silent_s <= self.config.quiet_server_s:
            return []
        self._stalled = True
        self.stats.stalls += 1
        return [Stalled(silent_s)]
