"""CaptionService: audio source -> streaming client -> transcript and journal. No Qt.

It publishes plain callbacks (state, interim, final); `app/ui/bridge.py` turns them into Qt
signals. One `run()` is one captioning session; `stop()` ends it gracefully (CloseStream, so
every word heard becomes final and is journaled before `run()` returns).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from concurrent.futures import Future

import numpy as np

from app.audio.base import OWN_VOICE, AudioSource, Block
from app.client.lifecycle import LinkConfig, LinkState, ReconnectingStream
from app.client.ring import Gap
from app.domain.echo import EchoGuard
from app.domain.speakers import voice_label
from app.domain.transcript import Segment, Transcript, segment_from_results
from app.errors import AutosaveError, CaptionError
from app.protocol.messages import Metadata, Results, ServerMessage, Warning
from app.protocol.params import StreamParams
from app.protocol.pcm import encode_pcm
from app.protocol.timeline import shifted
from app.services.caption_events import (
    AUTOSAVE_FAILED,
    AUTOSAVE_RESUMED,
    CaptionListener,
    CaptionState,
    SessionFigures,
    autosave_failed_message,
)
from app.services.journal import Journal, written

log = logging.getLogger(__name__)
FRAME_S = 0.1
BOTH_LABELS = ("You", "Others")  # Both mode's channels: the mic may hear the others (echo)
HOLD_TICK_S = 0.2  # how often finals held by the echo guard are checked while nothing comes


class CaptionService:
    def __init__(
        self,
        server_url: str,
        *,
        token: str | None = None,
        transcript: Transcript | None = None,
        journal: Journal | None = None,
        listener: CaptionListener | None = None,
        link: LinkConfig | None = None,
        language: str = "en",
        keyterms: tuple[str, ...] = (),
        time_offset_s: float = 0.0,
        diarize: bool = False,
        speakers_before: int = 0,
        max_speakers: int | None = None,
    ) -> None:
        self.server_url = server_url
        self.token = token
        self.language = language
        self.keyterms = keyterms  # the user's vocabulary, sent in every handshake
        self.diarize = diarize  # label the voices of the others ("Speaker 1", "Speaker 2" ...)
        self.speakers_before = speakers_before  # earlier runs' voices: this run numbers after
        self.max_speakers = max_speakers  # with diarize: into at most this many, if known
        # Where this run starts on the session's timeline: a later run in the same journal
        # goes on after the earlier ones, so cue times never run backwards.
        self.time_offset_s = time_offset_s
        self.transcript = transcript or Transcript()
        self.journal = journal
        self.listener = listener or CaptionListener()
        self.state = CaptionState.IDLE
        self.figures = SessionFigures()
        self.source: AudioSource | None = None
        self.link = link or LinkConfig()
        self.stream: ReconnectingStream | None = None
        self._paused = False
        self._stop = asyncio.Event()
        self._dropouts_seen = 0  # source frames up to which capture dropouts are reported
        self._echo: EchoGuard | None = None  # Both mode only
        # Finals handed to the journal and not shown yet, each with its write (None: no journal).
        self._unshown: deque[tuple[Segment, Future[None] | None]] = deque()
        # Why the journal cannot be written, if so (an earlier run may have left lines unsaved).
        self.autosave_failure: str | None = None
        if journal is not None and journal.unsaved:
            self.autosave_failure = "earlier segments are not saved yet"

    def _set_state(self, state: CaptionState, detail: str = "") -> None:
        self.state = state
        self.listener.state(state, detail)

    @property
    def running(self) -> bool:
        return self.state.running

    def pause(self) -> None:
        if self.state is CaptionState.STREAMING:
            self._paused = True
            if self.stream is not None:  # the link must not take the silence for a stall
                self.stream.pause()
            self._set_state(CaptionState.PAUSED)

    def resume(self) -> None:
        if self.state is CaptionState.PAUSED:
            self._paused = False
            if self.stream is not None:
                self.stream.resume()
            self._set_state(CaptionState.STREAMING)

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self, source: AudioSource) -> None:
        """Caption `source` until it ends or stop is requested. Raises CaptionError.

        A lost server connection does not end the run: audio waits in the stream's ring
        buffer and the state shows Reconnecting until it is back (or the stream gives up).
        """
        self.source = source
        self._stop.clear()
        self._paused = False
        self._dropouts_seen = 0
        self.figures = SessionFigures()
        self._set_state(CaptionState.CONNECTING, source.info.label)
        try:
            await source.start()
            self.figures.echo_cancelling = source.echo_cancelling
            info = source.info
            params = StreamParams(
                sample_rate=info.sample_rate,
                channels=info.channels,
                multichannel=info.channels > 1,
                vad_events=False,
                language=self.language,
                keyterms=self.keyterms,
                diarize=self.diarize,
                max_speakers=self.max_speakers,
            )
            stream = ReconnectingStream(
                self.server_url,
                params,
                token=self.token,
                config=self.link,
                on_state=self._link_state,
                on_gap=self._gap,
            )
            self.stream = stream
            sender = asyncio.create_task(self._send(stream, source))
            try:
                await self._receive(stream)
            finally:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender  # re-raises what the sender failed with
            self._set_state(CaptionState.IDLE, source.failure or "")
        except CaptionError as exc:
            self._set_state(CaptionState.ERROR, str(exc))
            raise
        finally:
            await source.stop()

    def _link_state(self, state: LinkState, detail: str) -> None:
        if state is LinkState.RECONNECTING:
            self._set_state(CaptionState.RECONNECTING, detail)
        elif state is LinkState.STREAMING and not self._stop.is_set():
            label = self.source.info.label if self.source else ""
            self._set_state(CaptionState.PAUSED if self._paused else CaptionState.STREAMING, label)
        elif state is LinkState.CONNECTING and detail:
            self._set_state(CaptionState.CONNECTING, detail)

    def _gap(self, gap: Gap) -> None:
        segment = self.transcript.add_gap(gap.start_s + self.time_offset_s, gap.length_s)
        self.figures.lost_s += gap.length_s
        self._keep(segment)

    def _keep(self, segment: Segment) -> None:
        """Into the journal at once (its writer keeps the order); shown by `_show_kept`."""
        saving = self.journal.submit(segment) if self.journal is not None else None
        self._unshown.append((segment, saving))

    async def _show_kept(self) -> None:
        """Show each kept final, in order, once the journal has it: what the user saw is on
        disk, so a crash loses none of it. The loop turns while the disk works."""
        while self._unshown:
            segment, saving = self._unshown[0]
            if saving is not None:
                try:
                    await written(saving)
                except AutosaveError as exc:
                    self._autosave_failed(exc)
                else:
                    self._autosave_works()
            self._unshown.popleft()
            self.listener.final(segment)

    def _show_kept_now(self) -> None:
        """The run ended with an error: show what is left without waiting for the disk."""
        while self._unshown:
            self.listener.final(self._unshown.popleft()[0])

    def _autosave_failed(self, exc: AutosaveError) -> None:
        """A failing disk never stops captioning: the transcript stays in memory, the user is
        told once, and the journal catches up when it can write again."""
        if self.autosave_failure is None:
            self.autosave_failure = exc.reason
            log.error("autosave failed: %s", exc)
            self.listener.warning(Warning(AUTOSAVE_FAILED, autosave_failed_message(exc.reason)))

    def _autosave_works(self) -> None:
        if self.autosave_failure is not None:
            self.autosave_failure = None
            log.info("autosave works again: %s", self.journal.path if self.journal else "")
            self.listener.warning(Warning(AUTOSAVE_RESUMED, "Autosave works again."))

    async def _send(self, stream: ReconnectingStream, source: AudioSource) -> None:
        """Captured audio into the stream (never blocks); paused audio is not sent."""
        frame_samples = int(source.info.sample_rate * FRAME_S)
        pending: list[Block] = []
        pending_samples = 0
        source_frames = 0  # from the source, paused ones included
        stream_frames = 0  # into the stream (pushed or pending)
        blocks = source.blocks().__aiter__()
        stop_wait = asyncio.create_task(self._stop.wait())
        next_block: asyncio.Future[Block] | None = None
        try:
            while not self._stop.is_set():
                next_block = asyncio.ensure_future(blocks.__anext__())
                done, _ = await asyncio.wait(
                    {next_block, stop_wait}, return_when=asyncio.FIRST_COMPLETED
                )
                if next_block not in done:
                    next_block.cancel()
                    break
                try:
                    block = next_block.result()
                except StopAsyncIteration:
                    break
                block_start, source_frames = source_frames, source_frames + len(block)
                self._report_dropouts(source, block_start, None if self._paused else stream_frames)
                if self._paused:
                    continue  # the stream sends KeepAlive while nothing comes
                stream_frames += len(block)
                pending.append(block)
                pending_samples += len(block)
                if pending_samples >= frame_samples:
                    self._push(stream, pending, source)
                    pending, pending_samples = [], 0
            if pending:
                self._push(stream, pending, source)
            self._set_state(CaptionState.STOPPING)
            stream.finish()
        finally:
            stop_wait.cancel()
            if next_block is not None:  # cancelled mid-wait (a refused stream): no orphan
                next_block.cancel()

    def _report_dropouts(
        self, source: AudioSource, block_start: int, stream_frame: int | None
    ) -> None:
        """Capture audio the source dropped (silence stands for it from `block_start` on) is a
        gap at that place in the stream, which starts at `stream_frame` (None: paused, so it
        would not have been captioned anyway)."""
        dropouts = source.dropouts
        if not dropouts or dropouts[-1].start + dropouts[-1].frames <= self._dropouts_seen:
            return  # the common case: nothing new
        rate = source.info.sample_rate
        for dropout in dropouts:
            start = max(dropout.start, self._dropouts_seen)
            end = dropout.start + dropout.frames
            if end <= start:
                continue
            self._dropouts_seen = end
            if stream_frame is not None:
                at = stream_frame + max(0, start - block_start)
                self._gap(Gap(at / rate, (end - start) / rate))

    def _push(self, stream: ReconnectingStream, blocks: list[Block], source: AudioSource) -> None:
        audio = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
        if audio.ndim == 2 and audio.shape[1] == 1:
            audio = audio[:, 0]
        stream.push(encode_pcm(audio))
        self.figures.audio_sent_s += len(audio) / source.info.sample_rate

    async def _receive(self, stream: ReconnectingStream) -> None:
        labels = self.source.info.channel_labels if self.source else ()
        self._echo = EchoGuard(*BOTH_LABELS) if tuple(labels) == BOTH_LABELS else None
        try:
            await self._receive_messages(stream)
            self._add_finals(self._echo.flush() if self._echo else [])
            await self._show_kept()  # gap markers reported as the stream ended
        finally:
            self._add_finals(self._echo.flush() if self._echo else [])
            self._show_kept_now()

    def _add_finals(self, finals: list[Segment]) -> None:
        for final in finals:
            self.transcript.finals.append(final)
            self.figures.finals += 1
            self._keep(final)

    async def _next_message(self, waiting: asyncio.Future[ServerMessage]) -> None:
        """Wait for `waiting`; meanwhile finals the echo guard holds are shown once their hold
        ran out on the stream clock (the audio sent), so none waits for the next message."""
        while self._echo is not None and self._echo.holding and not waiting.done():
            await asyncio.wait({waiting}, timeout=HOLD_TICK_S)
            self._add_finals(self._echo.release(self.figures.audio_sent_s + self.time_offset_s))
            await self._show_kept()
        await asyncio.wait({waiting})

    async def _receive_messages(self, stream: ReconnectingStream) -> None:
        labels = self.source.info.channel_labels if self.source else ("",)
        messages = stream.messages().__aiter__()
        while True:
            waiting = asyncio.ensure_future(anext(messages))
            try:
                await self._next_message(waiting)
            finally:
                waiting.cancel()
            try:
                message = waiting.result()
            except StopAsyncIteration:
                return
            await self._show_kept()  # gap markers reported since the last message
            if isinstance(message, Metadata):
                self.figures.engine, self.figures.model = message.engine, message.model
                continue
            if isinstance(message, Warning):
                self.listener.warning(message)
                continue
            if not isinstance(message, Results):
                continue
            message = _shifted_results(message, self.time_offset_s)
            channel_label = labels[message.channel] if message.channel < len(labels) else ""
            label = voice_label(
                channel_label,
                message,
                own_voice=channel_label == OWN_VOICE,
                numbers_before=self.speakers_before,
            )
            if message.words:
                self.figures.latency_s = (
                    self.figures.audio_sent_s + self.time_offset_s - message.words[-1].end
                )
            final = self.transcript.settle(message, label)
            if final is not None and label != channel_label:
                # Interims carry no speaker: the line they were shown on is the channel's.
                self.transcript.interims.pop(channel_label, None)
                self.listener.interim(Segment("", final.start, final.start, channel_label, False))
            finals = [final] if final is not None else []
            if self._echo is not None:  # it knows the channels by their labels, not voices
                until = message.start + message.duration
                finals = (
                    self._echo.offer(final, channel_label, until=until) if final is not None else []
                )
                if message.is_final:
                    finals += self._echo.settle(channel_label, until)
                self.figures.echoes_hidden = self._echo.dropped
            self._add_finals(finals)
            await self._show_kept()
            if not message.is_final:
                self.listener.interim(segment_from_results(message, label))
            elif final is None or final not in finals:
                # Empty, held or an echo: clear that source's interim line.
                self.listener.interim(Segment("", message.start, message.start, label, False))


def _shifted_results(results: Results, offset_s: float) -> Results:
    moved = shifted(results, offset_s)
    assert isinstance(moved, Results)
    return moved
