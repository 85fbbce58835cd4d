"""One channel's streaming transcription: VAD -> endpointing -> decodes -> Results.

Audio is processed strictly in order by one task. While someone speaks, an interim decode
runs every `interim_step_s` of speech (skipped when audio is queued, so the engine never falls
behind real time for their sake). Finals are decoded with long audio context
(`context.SpeechHistory`): up to `final_window_s` of the channel's speech before them, whole
utterances where they fit, with the finals already sent for that span forced as the text
prefix. An utterance's words become final when its speaker pauses (`endpointing_s`); in a
long one, words also settle on the way, once two decodes agree on them and they have
`settle_age_s` of audio after them. A final is never revised. Times are seconds of audio
received on this channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum

import numpy as np

from app.protocol.messages import ServerMessage, SpeechStarted, UtteranceEnd
from app.protocol.pcm import FloatArray
from app.server.asr.agreement import LocalAgreement
from app.server.asr.context import SpeechHistory, Window
from app.server.asr.decoder import DecodedWord, Decoding
from app.server.asr.endpointer import Endpointer, SilenceTimeout, SpeechEnd, SpeechStart
from app.server.asr.labelling import Label, PendingLabel, Piece, SpeakerTurns, pieces
from app.server.asr.repetition import repeated_run_at, without_repetition
from app.server.asr.settings import (
    CONTEXT_RETRY_S,
    MAX_SPAN_S,
    PROGRESS_MARGIN_S,
    PROGRESS_STEP_S,
    TranscriberConfig,
)
from app.server.asr.vocabulary import checked, writes_a_term
from app.server.asr.wire import Span, joined, results

RATE = 16000
# audio, prompt, prefix, beam size (None: the engine's own)
Decode = Callable[[FloatArray, str, str, int | None], Awaitable[Decoding]]
RunVad = Callable[[FloatArray], Awaitable[FloatArray]]
Emit = Callable[[ServerMessage], None]


class _Command(Enum):
    FINALIZE = "finalize"
    CLOSE = "close"


class ChannelTranscriber:
    def __init__(
        self,
        config: TranscriberConfig,
        *,
        decode: Decode,
        run_vad: RunVad,
        emit: Emit,
        channel: int = 0,
        channels: int = 1,
        label: Label | None = None,  # diarization: each final's speaker
    ) -> None:
        self.config = config
        self._decode = decode
        self._label = label
        self._run_vad = run_vad
        self._emit = emit
        self._channel = channel
        self._channels = channels
        self._endpointer = Endpointer(
            endpointing_s=config.endpointing_s, utterance_end_s=config.utterance_end_s
        )
        self._agreement = LocalAgreement()
        self._history = SpeechHistory(gap_keep_s=config.gap_keep_s)
        self._queue: asyncio.Queue[FloatArray | _Command] = asyncio.Queue()
        self._queued_samples = 0
        self._audio = np.zeros(0, dtype=np.float32)
        self._audio_start = 0  # absolute sample index of self._audio[0]
        self._samples = 0  # samples processed
        self._in_utterance = False
        self._utterance_settled = False
        self._commit_time = 0.0  # audio before this is settled
        self._last_decode_samples = 0
        self._last_settle_samples = 0
        self._last_interim = ""
        self._last_word_end = 0.0
        self._task: asyncio.Task[None] | None = None

    # -- public API (called on the event loop) --------------------------------------------
    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self._task

    def feed(self, audio: FloatArray) -> None:
        self._queued_samples += len(audio)
        self._queue.put_nowait(audio)

    def finalize(self) -> None:
        self._queue.put_nowait(_Command.FINALIZE)

    async def close(self) -> None:
        if self._task is None:
            return
        self._queue.put_nowait(_Command.CLOSE)
        await asyncio.shield(self._task)

    def abort(self) -> None:
        if self._task is not None:
            self._task.cancel()

    @property
    def backlog_s(self) -> float:
        return self._queued_samples / RATE

    # -- the processing task -----------------------------------------------------------
    @property
    def _now(self) -> float:
        return self._samples / RATE

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is _Command.CLOSE:
                await self._end_utterance(from_finalize=False)
                return
            if item is _Command.FINALIZE:
                await self._end_utterance(from_finalize=True)
                continue
            self._queued_samples -= len(item)
            await self._process(item)

    async def _process(self, audio: FloatArray) -> None:
        self._audio = np.concatenate([self._audio, audio])
        probabilities = await self._run_vad(audio)
        self._samples += len(audio)
        for probability in probabilities:
            for event in self._endpointer.update(float(probability)):
                if isinstance(event, SpeechStart):
                    self._begin_utterance(event.time)
                elif isinstance(event, SpeechEnd):
                    await self._finish_utterance(event.time, from_finalize=False)
                elif isinstance(event, SilenceTimeout):
                    self._emit(UtteranceEnd(self._last_word_end, self._channel, self._channels))
        if self._in_utterance:
            self._history.extend(self._now)
            if self._now - self._commit_time >= MAX_SPAN_S - self.config.interim_step_s:
                # Even behind real time (a file sent at once skips every other decode), the
                # open speech must settle before it outgrows whisper's window.
                await self._settle()
            elif self._decode_due(probabilities):
                if self._settle_due():
                    await self._settle()
                else:
                    await self._interim()
        elif self._now - PROGRESS_MARGIN_S - self._commit_time >= PROGRESS_STEP_S:
            self._settle_silence(self._now - PROGRESS_MARGIN_S)
        self._trim()

    def _decode_due(self, probabilities: FloatArray) -> bool:
        if not self._queue.empty():
            return False  # behind real time: catch up first, the final will cover it
        if self._samples - self._last_decode_samples < self.config.interim_step_s * RATE:
            return False
        # Speech seems to be stopping: the final decode is due soon, do not delay it.
        tail = probabilities[-4:]
        return not (len(tail) and float(np.max(tail)) < self._endpointer.off_threshold)

    def _settle_due(self) -> bool:
        open_s = self._now - self._commit_time
        if open_s >= min(self.config.force_commit_s, MAX_SPAN_S - self.config.interim_step_s):
            return True
        if open_s < self.config.settle_age_s + self.config.interim_step_s:
            return False  # nothing could be old enough to settle yet
        return self._samples - self._last_settle_samples >= self.config.settle_step_s * RATE

    def _begin_utterance(self, time: float) -> None:
        self._in_utterance = True
        self._utterance_settled = False
        start = max(time - self.config.preroll_s, self._audio_start / RATE, self._commit_time)
        self._history.begin(start)
        self._commit_time = start
        self._agreement.reset()
        self._last_interim = ""
        self._last_decode_samples = self._last_settle_samples = self._samples
        if self.config.vad_events:
            self._emit(SpeechStarted(time, self._channel, self._channels))

    # -- decoding ----------------------------------------------------------------------
    @property
    def _prompt(self) -> str:
        """Whisper's previous-text context: the user's vocabulary, as faster-whisper's
        `hotwords` do (spellings the model then prefers when it hears them)."""
        return ", ".join(self.config.keyterms) + "." if self.config.keyterms else ""

    def _audio_between(self, start: float, end: float) -> FloatArray:
        a = max(0, round(start * RATE) - self._audio_start)
        return self._audio[a : max(a, round(end * RATE) - self._audio_start)]

    def _window_audio(self, window: Window) -> FloatArray:
        parts = [self._audio_between(piece.start, piece.end) for piece in window.pieces]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def _labelling(self, start: float, end: float) -> PendingLabel:
        """Who speaks from `start` to `end` (the span a final takes), worked out in the
        background: at an utterance's end it is started beside the decode."""
        return PendingLabel.start(self._label, self._audio_between(start, end), start)

    async def _decode_window(self, window: Window, beam: int | None) -> list[DecodedWord]:
        audio, prefix = self._window_audio(window), joined(window.prefix)
        decoding = await self._decode(audio, self._prompt, prefix, beam)
        heard: Sequence[DecodedWord] = decoding.words
        if self._prompt and writes_a_term(heard, self.config.keyterms):
            # A term must never appear where it was not said: keep each only where whisper
            # without the prompt heard something alike at its place (`vocabulary`).
            plain = await self._decode(audio, "", prefix, beam)
            heard = checked(heard, plain.words, self.config.keyterms)
        # New words follow what is settled: whisper often starts a word early, in the pause
        # before it, and in a window whose pauses were shortened that pause maps far back.
        floor = self._commit_time
        return [
            DecodedWord(w.text, max(w.start, floor), max(w.end, floor), w.probability)
            for w in map(window.word_in_channel_time, heard)
        ]

    async def _decode_until(
        self, end: float, window_s: float, *, beam: int | None = None
    ) -> list[DecodedWord]:
        """The words after the settled ones, heard with up to `window_s` of speech before,
        searched with `beam` (None: the engine's own)."""
        if end - self._commit_time < 0.1:
            return []
        window = self._history.window(
            end, window_s, not_before=self._audio_start / RATE, latest=self._commit_time
        )
        if window.seconds < 0.15:
            return []
        self._last_decode_samples = self._samples
        words = await self._decode_window(window, beam)
        if window.prefix and not words and end - self._commit_time >= CONTEXT_RETRY_S:
            # After a forced prefix whisper may end the text at once (seen when a new voice
            # starts after a pause): decode the new speech on its own instead.
            return await self._decode_window(self._alone(end), beam)
        if repeated_run_at(words, context=window.prefix[-8:]) >= 0:
            # A repetition loop, often seeded by the context: decode the new speech without
            # it, and cut what repeats within that decode. (Words that repeat the context in
            # a decode of the new speech alone were said again: a person repeating a phrase.)
            if window.prefix:
                words = await self._decode_window(self._alone(end), beam)
            words = without_repetition(words)
        return words

    def _alone(self, end: float) -> Window:
        """The unsettled speech up to `end`, with no context before it."""
        return self._history.window(end, 0.0, not_before=end, latest=self._commit_time)

    async def _interim(self) -> None:
        now = self._now
        words = await self._decode_until(
            now, self.config.interim_window_s, beam=self.config.interim_beam_size
        )
        self._agreement.previous = list(words)  # the hypothesis the next settle checks
        self._show_interim(words, now)

    async def _settle(self) -> None:
        """A long-window decode inside an utterance: settle the words it and the previous
        decode agree on that are old enough."""
        now = self._now
        self._last_settle_samples = self._samples
        words = await self._decode_until(
            now, self.config.final_window_s, beam=self.config.settle_beam_size
        )
        young = sum(1 for w in words if w.end > now - self.config.settle_age_s)
        settled = self._agreement.insert(words, keep_last=max(1, young))
        pending = self._agreement.previous
        open_s = now - self._commit_time
        if (
            not settled
            and len(words) > 2
            and (
                open_s >= self.config.force_commit_s
                or open_s >= MAX_SPAN_S - 2 * self.config.interim_step_s
            )
        ):
            # A long run without agreement: settle all but the last words to make progress.
            settled, pending = words[:-2], words[-2:]
            self._agreement.previous = pending
        if settled:
            cut = settled[-1].end
            if pending and pending[0].start > cut:
                cut = (cut + pending[0].start) / 2
            # Labelled once it is known what settles: a label started beside every settle
            # decode would embed the whole open span each time, most of it for nothing.
            turns = await self._labelling(self._commit_time, min(cut, now)).turns(settled)
            self._commit(
                settled, min(cut, now), speech_final=False, from_finalize=False, turns=turns
            )
            self._utterance_settled = True
        elif open_s >= MAX_SPAN_S - self.config.interim_step_s:
            # Nothing decodable for most of a window (noise the VAD takes for speech): move
            # on rather than grow a decode past whisper's 30 s.
            self._commit_time = now - 2.0
            self._history.settle((), self._commit_time)
            self._agreement.reset()
        self._show_interim(pending, now)

    def _settle_silence(self, end: float) -> None:
        start, self._commit_time = self._commit_time, end
        self._emit_final(Piece((), start, end, None), speech_final=False, from_finalize=False)

    def _show_interim(self, words: Sequence[DecodedWord], now: float) -> None:
        if not self.config.interim_results or not words:
            return
        text = joined(words)
        if text != self._last_interim:
            self._last_interim = text
            self._emit(results(words, self._span(self._commit_time, now), is_final=False))

    def _commit(
        self,
        words: Sequence[DecodedWord],
        end: float,
        *,
        speech_final: bool,
        from_finalize: bool,
        turns: SpeakerTurns | None = None,
    ) -> None:
        """Settle `words` up to `end`: one final per speaker's turn in them. A turn another
        voice follows has ended (speech_final, so that no client joins it to that speaker's
        next words); the last ends the utterance if `speech_final`."""
        end = max(end, self._commit_time)
        cut = pieces(words, self._commit_time, end, turns)
        for index, piece in enumerate(cut):
            last = index == len(cut) - 1
            self._emit_final(
                piece, speech_final=speech_final or not last, from_finalize=from_finalize and last
            )
        self._history.settle(words, end)
        self._commit_time = end

    async def _finish_utterance(self, speech_end: float, *, from_finalize: bool) -> None:
        if not self._in_utterance:
            return
        end = min(speech_end + self.config.tail_s, self._now)
        self._history.close(max(end, self._commit_time))
        labelling = self._labelling(self._commit_time, end)
        words = (
            await self._decode_until(end, self.config.final_window_s)
            if end > self._commit_time
            else []
        )
        if words or self._utterance_settled:
            turns = await labelling.turns(words) if words else None
            self._commit(
                words,
                end,
                speech_final=self.config.speech_final,
                from_finalize=from_finalize,
                turns=turns,
            )
        else:
            self._commit_time = max(end, self._commit_time)
        labelling.cancel()  # nothing settled, or already done
        self._in_utterance = False
        self._agreement.reset()

    async def _end_utterance(self, *, from_finalize: bool) -> None:
        event = self._endpointer.force_end()
        if event is not None:
            await self._finish_utterance(self._now, from_finalize=from_finalize)

    def _emit_final(self, piece: Piece, *, speech_final: bool, from_finalize: bool) -> None:
        if piece.words:
            self._last_word_end = piece.words[-1].end
        self._last_interim = ""
        self._emit(
            results(
                piece.words,
                self._span(piece.start, piece.end),
                is_final=True,
                speech_final=speech_final,
                from_finalize=from_finalize,
                speaker=piece.speaker,
            )
        )

    def _span(self, start: float, end: float) -> Span:
        return Span(start, end, self._channel, self._channels)

    def _trim(self) -> None:
        keep_from = min(self._now - self.config.history_s, self._commit_time)
        drop = int(keep_from * RATE) - self._audio_start
        if drop > RATE:  # trim in chunks of at least a second
            self._audio = self._audio[drop:]
            self._audio_start += drop
            self._history.forget_before(self._audio_start / RATE)
