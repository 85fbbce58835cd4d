"""Whisper decoding on CTranslate2 with a short encoder window and word timestamps.

faster-whisper always pads the encoder input to 30 s; a decode of a few seconds of speech
then costs a full 30 s encoder pass. Padding the *audio* to `clamp(len + 6 s, 15 s, 30 s)`
measured better WER on the eval set (17.7 % vs 21.7 % on 218 utterances) at under half the
CPU; shorter windows made tiny.en loop on repetitions, so this is the floor.
"""

from __future__ import annotations

import math
import string
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from app.errors import EngineError

SAMPLE_RATE = 16000
FRAMES_PER_SECOND = 100  # mel frames
MIN_WINDOW_S = 15
MAX_WINDOW_S = 30
WINDOW_MARGIN_S = 6
MAX_TEXT_TOKENS = 448
MAX_PROMPT_TOKENS = MAX_TEXT_TOKENS // 2 - 1
TOKENS_PER_SECOND_LIMIT = 8  # speech rarely exceeds ~5 tokens/s; more is a repetition loop
# Beam search, as faster-whisper's batch default: on the eval set streaming WER fell from
# 21.3 % (greedy) and 20.5 % (beam 3) to 19.9 % (bench/tune.py); the real-time server's CPU
# rose from 0.141 to 0.156 s per audio second (bench/streaming.py).
BEAM_SIZE = 5
_OPENING_PUNCTUATION = "\"'“¿([{-"


@dataclass(frozen=True)
class DecodedWord:
    text: str  # with its leading space and attached punctuation, as whisper wrote it
    start: float
    end: float
    probability: float

    @property
    def bare(self) -> str:
        return self.text.strip()


@dataclass(frozen=True)
class Decoding:
    words: tuple[DecodedWord, ...]
    avg_logprob: float
    no_speech_prob: float
    window_s: int

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.words).strip()


def window_for(seconds: float) -> int:
    return int(min(MAX_WINDOW_S, max(MIN_WINDOW_S, math.ceil(seconds + WINDOW_MARGIN_S))))


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / max(1, len(zlib.compress(data))) if data else 0.0


def merge_punctuation(words: list[DecodedWord]) -> list[DecodedWord]:
    """Attach standalone punctuation tokens to the neighbouring word, as a reader expects."""
    merged: list[DecodedWord] = []
    carry = ""
    for word in words:
        bare = word.bare
        if bare and all(ch in string.punctuation + "“”‘’¿¡…" for ch in bare):
            if bare[0] in _OPENING_PUNCTUATION and (not merged or word.text.startswith(" ")):
                carry += bare
                continue
            if merged:
                last = merged[-1]
                merged[-1] = DecodedWord(last.text + bare, last.start, last.end, last.probability)
            # else: closing punctuation of words settled earlier; it cannot be attached now
            continue
        if carry:
            word = DecodedWord(" " + carry + bare, word.start, word.end, word.probability)
            carry = ""
        merged.append(word)
    return merged


class WhisperDecoder:
    """One loaded model. `decode` is blocking and thread-safe; call it off the event loop."""

    def __init__(self, model_path: Path, *, threads: int = 2, compute_type: str = "int8") -> None:
        try:
            import ctranslate2
            import tokenizers

            from app.server.asr.whisper_parts import submodule

            FeatureExtractor = submodule("feature_extractor").FeatureExtractor
            Tokenizer = submodule("tokenizer").Tokenizer
        except ImportError as exc:  # pragma: no cover - hard dependencies
            raise EngineError("whisper", f"faster-whisper is not installed: {exc}") from exc
        self._ctranslate2 = ctranslate2
        try:
            self.model = ctranslate2.models.Whisper(
                str(model_path),
                device="cpu",
                compute_type=compute_type,
                intra_threads=threads,
                inter_threads=1,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise EngineError("whisper", f"cannot load model from {model_path}: {exc}") from exc
        hf_tokenizer = tokenizers.Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.multilingual = self.model.is_multilingual
        self._Tokenizer = Tokenizer
        self._hf_tokenizer = hf_tokenizer
        self.features = FeatureExtractor(feature_size=self.model.n_mels)
        self._tokenizers: dict[str, object] = {}

    def supports_language(self, language: str) -> bool:
        code = language.split("-")[0].lower()
        if not self.multilingual:
            return code == "en"
        from app.server.asr.whisper_parts import submodule

        return code in submodule("tokenizer")._LANGUAGE_CODES

    def _tokenizer(self, language: str):  # type: ignore[no-untyped-def]
        code = language.split("-")[0].lower() if self.multilingual else "en"
        if code not in self._tokenizers:
            self._tokenizers[code] = self._Tokenizer(
                self._hf_tokenizer, self.multilingual, task="transcribe", language=code
            )
        return self._tokenizers[code]

    def _encode(self, audio: npt.NDArray[np.float32], window_s: int):  # type: ignore[no-untyped-def]
        samples = window_s * SAMPLE_RATE
        padded = np.zeros(max(samples, len(audio)), dtype=np.float32)
        padded[: len(audio)] = audio
        mel = self.features(padded[:samples])[:, : window_s * FRAMES_PER_SECOND]
        view = self._ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None]))
        return self.model.encode(view, to_cpu=False)

    def decode(
        self,
        audio: npt.NDArray[np.float32],
        *,
        prompt: str = "",
        prefix: str = "",
        language: str = "en",
        word_timestamps: bool = True,
        beam_size: int = BEAM_SIZE,
    ) -> Decoding:
        """Transcribe `audio`, continuing after the forced text `prefix` (settled words heard
        in this same audio), with `prompt` as earlier context. Returns only the new words,
        timed from the start of `audio`."""
        seconds = len(audio) / SAMPLE_RATE
        if seconds > MAX_WINDOW_S:
            raise EngineError("whisper", f"decode of {seconds:.1f} s exceeds {MAX_WINDOW_S} s")
        tokenizer = self._tokenizer(language)
        window = window_for(seconds)
        decoding = self._decode_once(
            audio, tokenizer, prompt, prefix, window, word_timestamps, beam_size
        )
        if window < MAX_WINDOW_S and compression_ratio(decoding.text) > 2.4:
            # A repetition loop: the full window is the most robust second try.
            decoding = self._decode_once(
                audio, tokenizer, prompt, prefix, MAX_WINDOW_S, word_timestamps, beam_size
            )
        return decoding

    def _decode_once(  # type: ignore[no-untyped-def]
        self,
        audio,
        tokenizer,
        prompt: str,
        prefix: str,
        window: int,
        word_timestamps: bool,
        beam_size: int,
    ) -> Decoding:
        seconds = len(audio) / SAMPLE_RATE
        encoded = self._encode(audio, window)
        forced = tokenizer.encode(" " + prefix.strip()) if prefix.strip() else []
        budget = int(seconds * TOKENS_PER_SECOND_LIMIT) + 12
        head = [*tokenizer.sot_sequence, tokenizer.no_timestamps, *forced]
        # CTranslate2's max_length counts the whole sequence, context included, and whisper's
        # text context is 448 tokens: the earlier-context prompt gets what is left, at most
        # the half whisper itself gives it (223 tokens). It takes one pass of the decoder, so a
        # user's 25 keyterms cost little; at 96 tokens the first of them were cut off.
        room = min(MAX_PROMPT_TOKENS, MAX_TEXT_TOKENS - len(head) - budget - 1)
        context: list[int] = []
        if prompt.strip() and room > 8:
            context = [tokenizer.sot_prev, *tokenizer.encode(" " + prompt.strip())[-room:]]
        sequence = [*context, *head]
        result = self.model.generate(
            encoded,
            [sequence],
            beam_size=beam_size,
            max_length=min(MAX_TEXT_TOKENS, len(sequence) + budget),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=not forced,
            suppress_tokens=[-1, *self._bare_space(tokenizer)],
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
        if tokens[: len(forced)] == forced:
            new_tokens = tokens[len(forced) :]
        else:  # pragma: no cover - CTranslate2 echoes the forced prefix first
            forced, new_tokens = [], tokens
        # CTranslate2's score is already length-normalised (a mean log probability per token);
        # this is faster-whisper's avg_logprob from it, not a second division by the length.
        length = max(1, len(new_tokens))
        avg_logprob = float(result.scores[0]) * length / (length + 1) if result.scores else 0.0
        no_speech = float(result.no_speech_prob)
        if not new_tokens or (no_speech > 0.6 and avg_logprob < -1.0 and not forced):
            return Decoding((), avg_logprob, no_speech, window)
        if word_timestamps:
            words = self._align(encoded, tokenizer, forced, new_tokens, seconds, window)
        else:
            text = tokenizer.decode(new_tokens)
            words = [DecodedWord(" " + w, 0.0, seconds, 1.0) for w in text.split()]
        return Decoding(tuple(merge_punctuation(words)), avg_logprob, no_speech, window)

    @staticmethod
    def _bare_space(tokenizer) -> list[int]:  # type: ignore[no-untyped-def]
        """The token of a lone space. After a forced prefix base wrote it and then a word
        without its space: "that I did" came out "that ire did" (" " then "ire"), and the
        word, once in the prefix, came back in later sentences ("pecuniary ire advantage").
        English text never needs it: every word token carries its own leading space."""
        return list(tokenizer.encode(" "))

    def _align(  # type: ignore[no-untyped-def]
        self, encoded, tokenizer, forced: list[int], new: list[int], seconds: float, window: int
    ) -> list[DecodedWord]:
        """Word times for the `new` tokens, aligned together with the forced ones before them."""
        tokens = [*forced, *new]
        alignment = self.model.align(
            encoded,
            tokenizer.sot_sequence,
            [tokens],
            window * FRAMES_PER_SECOND,
            median_filter_width=7,
        )[0]
        text_indices = np.array([pair[0] for pair in alignment.alignments])
        time_indices = np.array([pair[1] for pair in alignment.alignments])
        words, word_tokens = tokenizer.split_to_word_tokens([*tokens, tokenizer.eot])
        if len(word_tokens) <= 1 or len(text_indices) == 0:
            return []
        boundaries = np.pad(np.cumsum([len(t) for t in word_tokens[:-1]]), (1, 0))
        jumps = np.pad(np.diff(text_indices), (1, 0), constant_values=1).astype(bool)
        jump_times = time_indices[jumps] / 50.0  # encoder frames: 50 per second
        probs = alignment.text_token_probs
        skip = len(tokenizer.split_to_word_tokens([*forced, tokenizer.eot])[0]) - 1 if forced else 0
        out = []
        for i, text in enumerate(words[:-1]):
            if i < skip:
                continue
            a, b = int(boundaries[i]), int(boundaries[i + 1])
            if a >= len(jump_times):
                break
            start = float(jump_times[a])
            end = float(jump_times[min(b, len(jump_times) - 1)])
            start, end = min(start, seconds), min(max(end, start), seconds)
            prob = float(np.mean(probs[a:b])) if b > a else 0.0
            out.append(DecodedWord(text, start, end, prob))
        return out
