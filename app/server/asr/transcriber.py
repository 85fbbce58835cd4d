"""One channel's streaming transcription: VAD -> endpointing -> decodes -> Results.

Audio is processed strictly in order by one task. Interim decodes run every `interim_step_s`
of speech while the task keeps up (skipped when audio is queued, so the engine never falls
behind real time for their sake); words two decodes agree on are settled as finals
(LocalAgreement), and the rest of an utterance is settled when endpointing sees its end.
Times are seconds of audio received on this channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from app.protocol.messages import Results, ServerMessage, SpeechStarted, UtteranceEnd, Word
from app.protocol.pcm import FloatArray
from app.server.asr.agreement import LocalAgreement
from app.server.asr.decoder import MAX_WINDOW_S, DecodedWord, Decoding
from app.server.asr.endpointer import Endpointer, SilenceTimeout, SpeechEnd, SpeechStart

RATE = 16000
Decode = Callable[[FloatArray, str, str], Awaitable[Decoding]]  # audio, prompt, prefix
RunVad = Callable[[FloatArray], Awaitable[FloatArray]]
Emit = Callable[[ServerMessage], None]


@dataclass(frozen=True)
class TranscriberConfig:
    endpointing_s: float = 0.3
    speech_final: bool = True  # False when the client asked for endpointing=false
    utterance_end_s: float | None = None
    vad_events: bool = False
    interim_results: bool = True
    # Tuned on the eval set (bench/streaming.py): a 1 s step, 1 s of right context before a
    # word settles and no previous-text prompt gave the lowest WER at final p50 under 1.5 s.
    interim_step_s: float = 1.0
    preroll_s: float = 0.25
    tail_s: float = 0.2
    commit_age_s: float = 1.0
    force_commit_s: float = 10.0
    context_gap_s: float = 2.0  # pauses up to this keep the previous words as audio context
    context_span_s: float = 10.0  # ... while the decode would still start this recently
    prompt: bool = False  # earlier settled text as whisper's previous-text prompt (hurt WER)
    max_span_s: float = 16.0  # decodes cover at most this much audio (plus one step)


# Speech after the settled words that decodes to nothing for this long drops the context.
CONTEXT_RETRY_S = 0.4


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
    ) -> None:
        self.config = config
        self._decode = decode
        self._run_vad = run_vad
        self._emit = emit
        self._channel = channel
        self._channels = channels
        self._endpointer = Endpointer(
            endpointing_s=config.endpointing_s, utterance_end_s=config.utterance_end_s
        )
        self._agreement = LocalAgreement()
        self._queue: asyncio.Queue[FloatArray | _Command] = asyncio.Queue()
        self._queued_samples = 0
        self._audio = np.zeros(0, dtype=np.float32)
        self._audio_start = 0  # absolute sample index of self._audio[0]
        self._samples = 0  # samples processed
        self._in_utterance = False
        self._utterance_settled = False
        self._commit_time = 0.0  # audio before this is settled
        self._anchor = 0.0  # decodes start here: the utterance start, later a cut in long ones
        self._committed: list[DecodedWord] = []  # settled words after the anchor (forced prefix)
        self._context: list[DecodedWord] = []  # settled words before the anchor (prompt)
        self._last_decode_samples = 0
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
        if self._in_utterance and self._interim_due(probabilities):
            await self._interim()
        self._trim()

    def _interim_due(self, probabilities: FloatArray) -> bool:
        if not self._queue.empty():
            return False  # behind real time: catch up first, the final will cover it
        if self._samples - self._last_decode_samples < self.config.interim_step_s * RATE:
            return False
        # Speech seems to be stopping: the final decode is due soon, do not delay it.
        tail = probabilities[-4:]
        return not (len(tail) and float(np.max(tail)) < self._endpointer.off_threshold)

    def _begin_utterance(self, time: float) -> None:
        self._in_utterance = True
        self._utterance_settled = False
        start = max(time - self.config.preroll_s, self._audio_start / RATE, self._commit_time)
        # A short pause keeps the previous words as audio context (forced as the decode's
        # prefix): whisper hears a sentence, not fragments cut at every breath.
        keep = (
            self._committed
            and time - self._commit_time <= self.config.context_gap_s
            and time - self._anchor <= self.config.context_span_s
        )
        if not keep:
            self._restart_at(start)
        self._commit_time = start
        self._agreement.reset()
        self._last_interim = ""
        self._last_decode_samples = self._samples
        if self.config.vad_events:
            self._emit(SpeechStarted(time, self._channel, self._channels))

    def _slice(self, start: float, end: float) -> FloatArray:
        a = max(0, round(start * RATE) - self._audio_start)
        b = max(a, round(end * RATE) - self._audio_start)
        return self._audio[a:b]

    async def _decode_span(self, end: float) -> list[DecodedWord]:
        """The words after the settled ones, decoding from the anchor to `end`."""
        start = self._anchor
        audio = self._slice(start, end)
        if len(audio) < 0.15 * RATE or end - self._commit_time < 0.1:
            return []
        self._last_decode_samples = self._samples
        decoding = await self._decode(audio, _join(self._context[-40:]), _join(self._committed))
        words = [
            DecodedWord(w.text, w.start + start, w.end + start, w.probability)
            for w in decoding.words
        ]
        if not words and self._committed and end - self._commit_time >= CONTEXT_RETRY_S:
            # After the forced prefix of earlier words whisper may end the text at once (seen
            # when a new voice starts after a pause): a whole sentence would be lost. Decode
            # the new speech on its own instead.
            self._restart_at(self._commit_time)
            return await self._decode_span(end)
        return words

    async def _interim(self) -> None:
        now = self._now
        words = await self._decode_span(now)
        # Words need right context before they settle: the last `commit_age_s` stay open.
        young = sum(1 for w in words if w.end > now - self.config.commit_age_s)
        settled = self._agreement.insert(words, keep_last=max(1, young))
        pending = self._agreement.previous
        span = now - self._commit_time
        if not settled and span >= self.config.force_commit_s and len(words) > 2:
            # A long run without agreement: settle all but the last words to make progress.
            settled, pending = words[:-2], words[-2:]
            self._agreement.previous = pending
        if settled:
            cut = settled[-1].end
            if pending and pending[0].start > cut:
                cut = (cut + pending[0].start) / 2
            cut = min(cut, now)
            self._emit_final(
                settled, self._commit_time, cut, speech_final=False, from_finalize=False
            )
            self._committed.extend(settled)
            self._utterance_settled = True
            self._commit_time = cut
            if now - self._anchor >= self.config.max_span_s:
                self._restart_at(cut)  # keep decodes inside the model's window
        elif now - self._anchor >= MAX_WINDOW_S - 5:
            self._anchor = self._commit_time = now - 2.0  # nothing decodable: stay in bounds
            self._agreement.reset()
            return
        if self.config.interim_results and pending:
            text = _join(pending)
            if text != self._last_interim:
                self._last_interim = text
                self._emit(self._results(pending, self._commit_time, now, is_final=False))

    def _restart_at(self, time: float) -> None:
        """Decodes start at `time` from now on; settled words before it become text context."""
        self._context = (self._context + self._committed)[-40:] if self.config.prompt else []
        self._committed = []
        self._anchor = time

    async def _finish_utterance(self, speech_end: float, *, from_finalize: bool) -> None:
        if not self._in_utterance:
            return
        end = min(speech_end + self.config.tail_s, self._now)
        start = self._commit_time
        words = await self._decode_span(end) if end > start else []
        if words or self._utterance_settled:
            self._emit_final(
                words,
                start,
                max(end, start),
                speech_final=self.config.speech_final,
                from_finalize=from_finalize,
            )
        self._in_utterance = False
        self._commit_time = max(end, start)
        self._committed.extend(words)
        self._agreement.reset()

    async def _end_utterance(self, *, from_finalize: bool) -> None:
        event = self._endpointer.force_end()
        if event is not None:
            await self._finish_utterance(self._now, from_finalize=from_finalize)

    def _emit_final(
        self,
        words: Sequence[DecodedWord],
        start: float,
        end: float,
        *,
        speech_final: bool,
        from_finalize: bool,
    ) -> None:
        if words:
            self._last_word_end = words[-1].end
        self._last_interim = ""
        message = self._results(words, start, end, is_final=True)
        self._emit(
            Results(
                message.transcript,
                True,
                speech_final,
                message.start,
                message.duration,
                self._channel,
                self._channels,
                message.words,
                message.confidence,
                from_finalize,
            )
        )

    def _results(
        self, words: Sequence[DecodedWord], start: float, end: float, *, is_final: bool
    ) -> Results:
        wire_words = tuple(Word(w.bare, w.start, w.end, w.probability) for w in words)
        confidence = float(np.mean([w.probability for w in words])) if words else 0.0
        return Results(
            transcript=_join(words),
            is_final=is_final,
            speech_final=False,
            start=start,
            duration=max(0.0, end - start),
            channel=self._channel,
            channels=self._channels,
            words=wire_words,
            confidence=confidence,
        )

    def _trim(self) -> None:
        recent = self._now - self._commit_time <= self.config.context_gap_s
        if self._in_utterance or (self._committed and recent):
            keep_from = self._anchor
        else:
            keep_from = self._now - self.config.preroll_s
        drop = int(keep_from * RATE) - self._audio_start - RATE // 10
        if drop > RATE:  # trim in chunks of at least a second
            self._audio = self._audio[drop:]
            self._audio_start += drop


def _join(words: Sequence[DecodedWord]) -> str:
    return "".join(w.text for w in words).strip()
