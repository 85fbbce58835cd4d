"""Auto's live step-down: the better model while this computer keeps up, the fast one when not.

A session starts on the better model (base). When it falls more than `behind_s` behind the
audio received, or its words become final more than `late_s` after they were heard, and that
lasts `behind_for_s`, the session steps down: a session on the
fast model (tiny.en) takes over, replaying the audio since the last final (no word lost, none
doubled), and the client gets a `Warning` (MODEL_STEP_DOWN) naming the live model: the switch is
`switching.SwitchingSession`'s, shared with the provider failover; this module says when.
Later, at an utterance end with the fast session caught up, it steps back up (MODEL_STEP_UP):
first after `step_up_after_s`, twice as long after each further step-down, so a computer that
cannot keep up does not flap between the two. Both models stay loaded; their engines share
one decode thread. With `diarize`, both sessions label into the same speaker clusters, so a
voice keeps its number across the switch.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.errors import EngineError, ParamError
from app.protocol.messages import MODEL_STEP_DOWN, MODEL_STEP_UP, Results
from app.protocol.params import StreamParams
from app.protocol.pcm import FloatArray
from app.server.asr.speaker_clusters import ClusterSettings, SpeakerClusters
from app.server.engines.base import Emit, Engine, LabellingEngine
from app.server.engines.switching import Opener, SwitchingSession, live_name, open_labelling

log = logging.getLogger(__name__)
# Audio arriving this much faster than the clock is a recording sent at once, not a live
# stream: its backlog says nothing about whether the engine keeps real time.
LIVE_RATE_SLACK = 1.5
# When each block came in is kept this long (stream seconds) to time the finals against.
ARRIVALS_KEPT_S = 120.0


@dataclass(frozen=True)
class StepPolicy:
    behind_s: float = 3.0  # the engine this far behind the audio received ...
    behind_for_s: float = 10.0  # ... for this long: step down
    # Or its words final this long after they were said, for `behind_for_s`: what a reader
    # notices. A model whose every decode is slow can stay under `behind_s` of backlog (it
    # skips interims) while its finals come 4-6 s late.
    late_s: float = 4.0
    step_up_after_s: float = 60.0  # on the fast model at least this long before stepping up
    max_step_up_after_s: float = 960.0
    caught_up_s: float = 0.5  # the fast model's backlog at most this when stepping up
    # The backlog is looked at on every fed block, and this often besides: when the engine is
    # far behind, the server stops reading audio (backpressure) and no block comes.
    check_every_s: float = 1.0


class AutoSession(SwitchingSession):
    def __init__(
        self,
        engine: AutoEngine,
        params: StreamParams,
        emit: Emit,
        speakers: Sequence[SpeakerClusters] | None = None,
    ) -> None:
        super().__init__(params, emit)
        self.engine = engine
        self._speakers = speakers
        if speakers is None and params.diarize:
            settings = ClusterSettings(max_speakers=params.max_speakers)
            self._speakers = [SpeakerClusters(settings) for _ in range(params.channels)]
        self._policy = engine.policy
        self._clock = engine.clock
        self._may_step_down = _serves(engine.fast, params)
        self._behind_since: float | None = None
        self._received_then = 0.0  # stream seconds received at `_behind_since`
        self._late_since: float | None = None  # finals late since
        self._step_due = ""  # finals came late: step down at the next look (why)
        self._opened_at = self._clock()
        self._arrivals: list[tuple[float, float]] = []  # (stream s received, clock) per block
        self._stepped_down_at = 0.0
        self.step_downs = 0
        self.on_better = True
        self._start(self._on(engine.better))
        self._watchdog: asyncio.Task[None] | None = None
        if self._may_step_down:
            self._watchdog = asyncio.get_running_loop().create_task(self._watch_periodically())

    def _on(self, engine: Engine) -> Opener:
        return lambda relay: open_labelling(engine, self.params, relay, self._speakers)

    # -- when to switch --------------------------------------------------------------------
    def _watch_backlog(self) -> None:
        if not self.on_better or not self._may_step_down or self._closing:
            return
        if self._step_due:
            self._step_down(self._step_due)
            return
        backlog = self._live.backlog_s
        if backlog <= self._policy.behind_s:
            self._behind_since = None
            return
        now, received = self._clock(), self._handover.received_s
        if self._behind_since is None or self._fed_faster_than_live(now, received):
            self._behind_since, self._received_then = now, received
            return
        if now - self._behind_since >= self._policy.behind_for_s:
            self._step_down(
                f"{self.engine.better.model_name} fell {backlog:.1f} s behind real time"
            )

    async def _watch_periodically(self) -> None:
        while not self._closing:
            await asyncio.sleep(self._policy.check_every_s)
            self._watch_backlog()

    def _heard_final(self, final: Results) -> None:
        """How long after its last word was received a final came: late for `behind_for_s`
        (on a live stream), the session steps down."""
        if not final.words or not self.on_better or not self._may_step_down or self._closing:
            return
        now, word_end = self._clock(), final.words[-1].end
        received = self._handover.received_s
        if received > (now - self._opened_at) * LIVE_RATE_SLACK + 1.0:
            return  # a recording sent at once: its finals are "late" by design
        # When the block that brought the word's end came in.
        index = bisect.bisect_left(self._arrivals, (word_end, -math.inf))
        if index >= len(self._arrivals):
            return
        late = now - self._arrivals[index][1]
        del self._arrivals[:index]  # later finals end later
        if late <= self._policy.late_s:
            self._late_since = None
        elif self._late_since is None:
            self._late_since = now
        elif now - self._late_since >= self._policy.behind_for_s:
            # Not from inside the handover's own report of a final: at the next block.
            better = self.engine.better.model_name
            self._step_due = f"{better}'s captions came {late:.1f} s after the words"

    def _fed_faster_than_live(self, now: float, received: float) -> bool:
        assert self._behind_since is not None
        elapsed = now - self._behind_since
        return received - self._received_then > elapsed * LIVE_RATE_SLACK + 1.0

    def _step_down(self, what: str) -> None:
        fast = self.engine.fast
        log.warning(
            "%s for %.0f s: stepping down to %s", what, self._policy.behind_for_s, fast.model_name
        )
        # First: the replay may already end an utterance, which asks about stepping up.
        self.on_better = False
        self.step_downs += 1
        self._stepped_down_at = self._clock()
        self._late_since, self._step_due = None, ""
        reason = f"{what} on this computer"
        self._switch(self._on(fast), MODEL_STEP_DOWN, live_name(fast), reason)

    def step_up_wait_s(self) -> float:
        """How long after the last step-down the session may step back up."""
        doubled = self._policy.step_up_after_s * 2.0 ** max(0, self.step_downs - 1)
        return min(self._policy.max_step_up_after_s, doubled)

    def _at_utterance_end(self) -> None:
        if self.on_better or self._closing:
            return
        if self._clock() - self._stepped_down_at < self.step_up_wait_s():
            return
        if self._live.backlog_s > self._policy.caught_up_s:
            return
        better = self.engine.better
        log.info("stepping back up to %s", better.model_name)
        self.on_better = True  # first: the replay may end an utterance, which asks again
        self._behind_since = None
        reason = f"trying {better.model_name} again ({self.engine.fast.model_name} caught up)"
        self._switch(self._on(better), MODEL_STEP_UP, live_name(better), reason)

    def feed(self, channels: list[FloatArray]) -> None:
        super().feed(channels)
        if self.on_better and self._may_step_down:
            received = self._handover.received_s
            self._arrivals.append((received, self._clock()))
            if self._arrivals[0][0] < received - ARRIVALS_KEPT_S:  # no final waits this long
                del self._arrivals[: len(self._arrivals) // 2]
        self._watch_backlog()

    def _stop_watching(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()


def _serves(engine: Engine, params: StreamParams) -> bool:
    """Whether `engine` can take a session with these parameters (tiny.en: English only)."""
    try:
        engine.check_params(params)
    except ParamError:
        return False
    return True


class AutoEngine:
    """The better model, stepping down to the fast one per session when it falls behind."""

    def __init__(
        self,
        better: Engine,
        fast: Engine,
        *,
        selection_note: str = "",
        policy: StepPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.better = better
        self.fast = fast
        self.name = better.name
        self.model_name = better.model_name
        self.selection_note = selection_note
        self.policy = policy or StepPolicy()
        self.clock = clock

    def check_params(self, params: StreamParams) -> None:
        self.better.check_params(params)  # a session the fast model cannot serve stays on it

    def open_session(
        self,
        params: StreamParams,
        emit: Emit,
        speakers: Sequence[SpeakerClusters] | None = None,
    ) -> AutoSession:
        return AutoSession(self, params, emit, speakers)

    async def embed_voice(self, audio: FloatArray, rate: int) -> FloatArray:
        if not isinstance(self.better, LabellingEngine):
            raise EngineError(self.better.name, "it does not label speakers")
        return await self.better.embed_voice(audio, rate)

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self.fast.aclose()
        await self.better.aclose()
