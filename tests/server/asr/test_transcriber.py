"""The streaming logic with a fake decoder and VAD: scheduling, agreement, endpointing, order."""

from __future__ import annotations

import asyncio
import itertools

import numpy as np
import pytest

from app.protocol.messages import Results, ServerMessage
from app.server.asr.decoder import MAX_WINDOW_S, DecodedWord, Decoding
from app.server.asr.labelling import SpeakerTurns, Turn
from app.server.asr.settings import TranscriberConfig
from app.server.asr.transcriber import ChannelTranscriber
from tests.conftest import run

RATE = 16000


def render(script: list[tuple[str | None, float]]) -> np.ndarray:
    """Word k is a run of constant amplitude 0.2 + 0.01 k; None is silence."""
    parts = []
    for word, seconds in script:
        level = 0.0 if word is None else 0.2 + 0.01 * int(word[1:])
        parts.append(np.full(int(seconds * RATE), level, dtype=np.float32))
    return np.concatenate(parts)


class FakeDecoder:
    """Reads the words back from the amplitude runs; a run cut by the audio's end is unsure."""

    def __init__(self) -> None:
        self.spans: list[float] = []
        self.beams: list[int | None] = []  # each decode's beam size (None: the engine's)

    async def __call__(
        self, audio: np.ndarray, prompt: str, prefix: str, beam: int | None = None
    ) -> Decoding:
        self.spans.append(len(audio) / RATE)
        self.beams.append(beam)
        await asyncio.sleep(0)
        words: list[DecodedWord] = []
        start = 0
        values = np.round(audio, 3)
        for i in range(1, len(values) + 1):
            if i == len(values) or values[i] != values[i - 1]:
                level = values[i - 1]
                if level > 0.1:
                    k = round((level - 0.2) / 0.01)
                    complete = i < len(values)
                    text = f" w{k}" if complete else f" w{k}?"
                    words.append(DecodedWord(text, start / RATE, i / RATE, 0.9))
                start = i
        skip = len(prefix.split())
        return Decoding(tuple(words[skip:]), -0.1, 0.0, 15)


class FakeVad:
    """Speech where the mean level of a 32 ms window is audible; keeps partial windows."""

    def __init__(self) -> None:
        self.pending = np.zeros(0, dtype=np.float32)

    async def __call__(self, audio: np.ndarray) -> np.ndarray:
        data = np.concatenate([self.pending, audio])
        count = len(data) // 512
        self.pending = data[count * 512 :]
        windows = data[: count * 512].reshape(count, 512)
        return np.where(np.abs(windows).mean(axis=1) > 0.05, 0.9, 0.0).astype(np.float32)


async def transcribe(
    audio: np.ndarray, *, live: bool = True, finalize_at: float | None = None, **config: float
) -> tuple[list[Results], FakeDecoder]:
    messages: list[ServerMessage] = []
    decoder = FakeDecoder()
    transcriber = ChannelTranscriber(
        TranscriberConfig(**config),
        decode=decoder,  # type: ignore[arg-type]
        run_vad=FakeVad(),
        emit=messages.append,
    )
    transcriber.start()
    step = int(0.1 * RATE)
    for offset in range(0, len(audio), step):
        transcriber.feed(audio[offset : offset + step])
        if finalize_at is not None and abs(offset / RATE - finalize_at) < 0.05:
            transcriber.finalize()
        if live:  # let the task keep up, as with real-time audio
            for _ in range(20):
                await asyncio.sleep(0)
    await transcriber.close()
    return [m for m in messages if isinstance(m, Results)], decoder


def words_of(results: list[Results]) -> list[str]:
    return [w.word for r in results if r.is_final for w in r.words]


def test_every_word_settles_once_in_order_with_a_speech_final_per_utterance() -> None:
    script: list[tuple[str | None, float]] = [(None, 0.5)]
    for utterance in range(3):
        script += [(f"w{utterance * 4 + k}", 0.4) for k in range(4)] + [(None, 0.8)]
    results, _ = run(transcribe(render(script)))
    assert words_of(results) == [f"w{k}" for k in range(12)]
    finals = [r for r in results if r.is_final]
    assert sum(r.speech_final for r in finals) == 3
    assert any(not r.is_final for r in results), "interims while speech goes on"
    assert all(a.start <= b.start for a, b in itertools.pairwise(finals))
    assert finals[0].words[0].start == pytest.approx(0.5, abs=0.05)  # audio seconds


def test_interims_and_settles_may_search_less_and_utterance_end_finals_never_do() -> None:
    """`interim_beam_size`: an interim is redone a step later, so it may decode greedily;
    `settle_beam_size`: a settle keeps only words the next decode agrees on, so it may too.
    The decode at an utterance's end settles alone: it keeps the engine's beam."""
    script: list[tuple[str | None, float]] = [(None, 0.5)]
    script += [(f"w{k}", 0.4) for k in range(30)] + [(None, 0.8)]  # 12 s: settles inside
    results, decoder = run(transcribe(render(script), interim_beam_size=1, settle_beam_size=1))
    decodes = list(zip(decoder.spans, decoder.beams, strict=True))
    window = TranscriberConfig().interim_window_s
    assert any(span <= window + 0.5 for span, beam in decodes if beam == 1)  # interims
    assert any(span > window + 0.5 for span, beam in decodes if beam == 1)  # settles
    assert [beam for _, beam in decodes if beam is None] == [None]  # the utterance's end
    assert decodes[-1][1] is None
    assert words_of(results) == [f"w{k}" for k in range(30)]
    _, beamed_settles = run(
        transcribe(render(script), interim_beam_size=1, settle_beam_size=None)  # type: ignore[arg-type]
    )
    assert beamed_settles.beams.count(None) > 1  # settles and the end
    _, as_finals = run(
        transcribe(render(script), interim_beam_size=None, settle_beam_size=None)  # type: ignore[arg-type]
    )
    assert set(as_finals.beams) == {None}


def test_silence_is_never_decoded_and_settles_as_empty_finals() -> None:
    """Like Deepgram's, empty finals in silence tell the client how far the audio is settled:
    contiguous from 0, every 2 s, never within the last second (speech may be starting)."""
    results, decoder = run(transcribe(np.zeros(20 * RATE, dtype=np.float32)))
    assert decoder.spans == []
    assert results and all(r.is_final and not r.transcript and not r.words for r in results)
    assert results[0].start == 0.0
    for a, b in itertools.pairwise(results):
        assert b.start == pytest.approx(a.start + a.duration)
    assert all(r.duration >= 2.0 for r in results)
    assert results[-1].start + results[-1].duration == pytest.approx(19.0, abs=2.0)


def test_a_word_after_a_long_silence_keeps_its_onset() -> None:
    script: list[tuple[str | None, float]] = [(None, 6.0), ("w1", 0.5), (None, 1.0)]
    results, _ = run(transcribe(render(script)))
    finals = [r for r in results if r.is_final]
    assert words_of(finals) == ["w1"]
    spoken = next(r for r in finals if r.words)
    assert spoken.start <= 6.0 - 0.2  # the preroll before the onset was never settled as silence
    for a, b in itertools.pairwise(finals):  # in order, never overlapping
        assert b.start >= a.start + a.duration - 1e-9


def test_interims_are_skipped_when_audio_queues_up() -> None:
    script: list[tuple[str | None, float]] = [(None, 0.5)]
    for utterance in range(3):
        script += [(f"w{utterance * 5 + k}", 0.5) for k in range(5)] + [(None, 0.8)]
    results, decoder = run(transcribe(render(script), live=False))
    assert len(decoder.spans) == 3  # one final decode per utterance, nothing else
    assert words_of(results) == [f"w{k}" for k in range(15)]
    assert all(r.is_final for r in results)


def test_a_long_utterance_settles_progressively_and_decodes_stay_short() -> None:
    script: list[tuple[str | None, float]] = [(None, 0.3)]
    script += [(f"w{k}", 0.45) for k in range(60)]  # 27 s without a pause
    script += [(None, 1.0)]
    results, decoder = run(transcribe(render(script)))
    finals = [r for r in results if r.is_final]
    assert words_of(results) == [f"w{k}" for k in range(60)]
    # Words settle every couple of seconds, not only when the speaker stops...
    assert len(finals) > 10 and not any(r.speech_final for r in finals[:-1])
    settled_early = [r for r in finals[:-1] if r.words[-1].end < 20.0]
    assert len(settled_early) >= 7
    # ... and no decode grows past the final window (plus one step), far inside whisper's 30 s.
    assert max(decoder.spans) <= TranscriberConfig().final_window_s + 1.0


def test_finalize_settles_the_open_utterance() -> None:
    script = [(None, 0.3), ("w1", 0.5), ("w2", 0.5), ("w3", 3.0)]
    results, _ = run(transcribe(render(script), live=False, finalize_at=1.3))
    finals = [r for r in results if r.is_final]
    assert finals[0].from_finalize
    assert words_of(results)[:2] == ["w1", "w2"]


class PrefixShyDecoder(FakeDecoder):
    """Like whisper after a forced prefix when a new voice starts: it ends the text at once
    for words w50 and up while earlier words are forced as the prefix."""

    async def __call__(
        self, audio: np.ndarray, prompt: str, prefix: str, beam: int | None = None
    ) -> Decoding:
        decoding = await super().__call__(audio, prompt, prefix)
        if prefix and any(int(w.text.strip(" ?")[1:]) >= 50 for w in decoding.words):
            return Decoding((), -0.1, 0.0, 15)
        return decoding


def transcribe_live(
    decoder: FakeDecoder,
    script: list[tuple[str | None, float]],
    config: TranscriberConfig | None = None,
) -> list[Results]:
    """`script` fed in 100 ms frames to a transcriber using `decoder`, as live audio."""
    messages: list[ServerMessage] = []

    async def scenario() -> None:
        transcriber = ChannelTranscriber(
            config or TranscriberConfig(),
            decode=decoder,  # type: ignore[arg-type]
            run_vad=FakeVad(),
            emit=messages.append,
        )
        transcriber.start()
        audio = render(script)
        for offset in range(0, len(audio), 1600):
            transcriber.feed(audio[offset : offset + 1600])
            for _ in range(20):
                await asyncio.sleep(0)
        await transcriber.close()

    run(scenario())
    return [m for m in messages if isinstance(m, Results)]


def test_speech_that_decodes_to_nothing_after_the_context_is_decoded_alone() -> None:
    """A sentence after a short pause must not vanish because the kept context ends it."""
    script: list[tuple[str | None, float]] = [(None, 0.5)]
    script += [(f"w{k}", 0.4) for k in range(4)] + [(None, 0.8)]  # the pause keeps context
    script += [(f"w{50 + k}", 0.4) for k in range(5)] + [(None, 1.0)]
    results = transcribe_live(PrefixShyDecoder(), script)
    assert words_of(results) == [f"w{k}" for k in range(4)] + [f"w{50 + k}" for k in range(5)]


def test_a_phrase_the_speaker_says_again_after_a_pause_is_kept() -> None:
    """The repetition guard is for decoder loops, not for people who repeat themselves."""
    phrase: list[tuple[str | None, float]] = [(f"w{k}", 0.4) for k in range(1, 6)]
    script: list[tuple[str | None, float]] = [(None, 0.5), *phrase, (None, 1.2), *phrase]
    script.append((None, 1.0))
    results, _ = run(transcribe(render(script)))
    assert words_of(results) == [f"w{k}" for k in range(1, 6)] * 2


class LoopingDecoder(FakeDecoder):
    """Says the new words twice over, as whisper does in a repetition loop."""

    async def __call__(
        self, audio: np.ndarray, prompt: str, prefix: str, beam: int | None = None
    ) -> Decoding:
        decoding = await super().__call__(audio, prompt, prefix)
        words = decoding.words
        if len(words) >= 4:
            shift = words[-1].end
            again = tuple(DecodedWord(w.text, w.start + shift, w.end + shift, 0.9) for w in words)
            words = words + again
        return Decoding(words, -0.1, 0.0, 15)


def test_a_decoder_that_loops_has_its_repeat_cut() -> None:
    script: list[tuple[str | None, float]] = [(None, 0.5)]
    script += [(f"w{k}", 0.4) for k in range(1, 7)] + [(None, 1.0)]
    final = [r for r in transcribe_live(LoopingDecoder(), script) if r.is_final]
    assert words_of(final) == [f"w{k}" for k in range(1, 7)]


class PromptedDecoder(FakeDecoder):
    """Whisper with the user's vocabulary as prompt: it spells w3, misheard as "Subiyako"
    without it, the user's way; and it copies a term over w5 ("when"), which was never it."""

    def __init__(self) -> None:
        super().__init__()
        self.prompts: list[str] = []

    async def __call__(
        self, audio: np.ndarray, prompt: str, prefix: str, beam: int | None = None
    ) -> Decoding:
        self.prompts.append(prompt)
        decoding = await super().__call__(audio, prompt, prefix)
        spelled = {"w3": "Subiaco", "w5": "Nguyen"} if prompt else {"w3": "Subiyako", "w5": "when"}
        words = tuple(
            DecodedWord(" " + spelled.get(w.bare, w.bare), w.start, w.end, w.probability)
            for w in decoding.words
        )
        return Decoding(words, -0.1, 0.0, 15)


def test_a_keyterm_stays_where_it_was_heard_and_never_where_it_was_not() -> None:
    """Checked per decode: a decode that copied a term is replaced by the unprompted one."""
    script: list[tuple[str | None, float]] = [(None, 0.5)]
    script += [(f"w{k}", 0.4) for k in range(1, 4)] + [(None, 1.2)]
    script += [(f"w{k}", 0.4) for k in range(4, 7)] + [(None, 1.0)]
    decoder = PromptedDecoder()
    config = TranscriberConfig(keyterms=("Subiaco", "Nguyen"))
    final = [r for r in transcribe_live(decoder, script, config) if r.is_final]
    assert words_of(final) == ["w1", "w2", "Subiaco", "w4", "when", "w6"]
    assert "Subiaco, Nguyen." in decoder.prompts and "" in decoder.prompts


def test_no_decode_exceeds_whisper_window_when_audio_arrives_faster_than_real_time() -> None:
    """Issue 12: a file sent at once skips interims and settles; a 45 s run of speech without
    a pause must still be decoded in spans whisper can take, and lose no word."""
    script: list[tuple[str | None, float]] = [(None, 0.3)]
    script += [(f"w{k}", 0.45) for k in range(100)]  # 45 s without a pause
    script += [(None, 1.0)]
    results, decoder = run(transcribe(render(script), live=False))
    assert max(decoder.spans) <= MAX_WINDOW_S
    assert words_of(results) == [f"w{k}" for k in range(100)]


async def transcribe_labelled(
    audio: np.ndarray, label: object, decoder: FakeDecoder | None = None
) -> list[Results]:
    messages: list[ServerMessage] = []
    transcriber = ChannelTranscriber(
        TranscriberConfig(),
        decode=decoder or FakeDecoder(),  # type: ignore[arg-type]
        run_vad=FakeVad(),
        emit=messages.append,
        label=label,  # type: ignore[arg-type]
    )
    transcriber.start()
    step = int(0.1 * RATE)
    for offset in range(0, len(audio), step):
        transcriber.feed(audio[offset : offset + step])
        for _ in range(20):
            await asyncio.sleep(0)
    await transcriber.close()
    return [m for m in messages if isinstance(m, Results)]


def test_each_final_carries_the_speaker_its_audio_was_labelled_with() -> None:
    """Diarization: the label sees the final's audio; interims and silence carry none."""

    async def by_loudness(audio: np.ndarray, start: float) -> int:
        await asyncio.sleep(0)
        return 1 if float(np.max(audio)) > 0.25 else 0  # w9 and up are louder: another voice

    script: list[tuple[str | None, float]] = [(None, 0.5)]
    script += [("w1", 0.4), ("w2", 0.4), (None, 0.8), ("w9", 0.4), ("w10", 0.4), (None, 0.8)]
    results = run(transcribe_labelled(render(script), by_loudness))
    spoken = [r for r in results if r.is_final and r.words]
    assert [[(w.word, w.speaker) for w in r.words] for r in spoken] == [
        [("w1", 0), ("w2", 0)],
        [("w9", 1), ("w10", 1)],
    ]
    assert all(w.speaker is None for r in results if not r.is_final for w in r.words)


def test_a_final_in_which_the_voice_changes_is_settled_as_one_final_per_turn() -> None:
    """A reply with no pause before it: the label reports two turns, and each speaker's words
    become a final of their own, back to back; the first ends where the second voice begins."""

    async def by_loudness_turns(audio: np.ndarray, start: float) -> SpeakerTurns:
        await asyncio.sleep(0)
        louder = np.flatnonzero(audio > 0.25)  # w9 and up: another voice
        if len(louder) == 0:
            return (Turn(start, 0),)
        return (Turn(start, 0), Turn(start + louder[0] / RATE, 1))

    script: list[tuple[str | None, float]] = [(None, 0.5)]
    script += [("w1", 0.4), ("w2", 0.4), ("w9", 0.4), ("w10", 0.4), (None, 1.2)]
    results = run(transcribe_labelled(render(script), by_loudness_turns))
    finals = [r for r in results if r.is_final and r.words]
    assert [[(w.word, w.speaker) for w in r.words] for r in finals] == [
        [("w1", 0), ("w2", 0)],
        [("w9", 1), ("w10", 1)],
    ]
    assert [r.speech_final for r in finals] == [True, True]
    first, second = finals
    assert first.start + first.duration == pytest.approx(second.start)
    assert first.words[-1].end <= second.start <= second.words[0].start


def test_a_speaker_label_is_worked_out_while_the_final_decodes() -> None:
    """No caption latency for the label: it runs beside the decode of the same final. A label
    that waits to see the decode start would wait forever if they ran one after the other."""
    label_running, decode_saw_label = asyncio.Event(), asyncio.Event()

    class WatchingDecoder(FakeDecoder):
        async def __call__(
            self, audio: np.ndarray, prompt: str, prefix: str, beam: int | None = None
        ) -> Decoding:
            decoding = await super().__call__(audio, prompt, prefix)
            if label_running.is_set():
                decode_saw_label.set()
            return decoding

    async def patient_label(audio: np.ndarray, start: float) -> int:
        label_running.set()
        await asyncio.wait_for(decode_saw_label.wait(), 5)
        label_running.clear()
        return 3

    script: list[tuple[str | None, float]] = [(None, 0.5), ("w1", 0.4), (None, 0.8)]
    results = run(transcribe_labelled(render(script), patient_label, WatchingDecoder()))
    assert [w.speaker for r in results if r.is_final for w in r.words] == [3]
