"""Handshake query parameters (Deepgram's names), validated before the WebSocket upgrade.

Unknown parameters are accepted and ignored, so Deepgram SDKs (which send many options) can
connect; every parameter we act on is checked strictly and a bad one names itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.errors import ParamError

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 48000
SUPPORTED_ENCODINGS = ("linear16",)
MAX_KEYTERMS = 100
MAX_KEYTERM_CHARS = 100
# All terms together: repeated in the URL they must stay well inside the 8 KiB request line a
# WebSocket server reads (percent-encoding may triple each byte).
MAX_KEYTERM_BYTES = 2000
# Deepgram's streaming diarizers; naming one turns diarization on (its batch-only v2 is refused).
DIARIZE_MODELS = ("v1", "latest")
# Our `max_speakers`: the most voices a diarized stream may be split into. Ten is the largest
# session measured (bench/speakers.py, ten voices); past it online clustering no longer tells
# voices apart, and a cap that high would hardly ever bind.
MAX_SPEAKERS = 10
# Deepgram's `keywords=word:2` carries a boost (intensifier); we keep only the word.
_KEYWORD_BOOST = re.compile(r":-?\d+(?:\.\d+)?$")


@dataclass(frozen=True)
class StreamParams:
    encoding: str = "linear16"
    sample_rate: int = 16000
    channels: int = 1
    multichannel: bool = False
    interim_results: bool = True
    endpointing_ms: int | None = 300  # None: Deepgram's `endpointing=false`
    utterance_end_ms: int | None = None
    vad_events: bool = False
    language: str = "en"
    model: str | None = None
    # Our extension: stream time of this connection's first sample (a client resuming after a
    # reconnect). The server counts and logs it; timestamps stay per connection, as Deepgram's.
    stream_offset_s: float = 0.0
    # Words and phrases to favour (`keyterm`, repeatable; `keywords` too), in the order given.
    keyterms: tuple[str, ...] = ()
    # Words carry a `speaker` label (Deepgram's `diarize`, or its newer `diarize_model`).
    diarize: bool = False
    # Our extension, with diarize only: at most this many labels (the expected number of
    # speakers); None: as many as the voices found. Deepgram has no such parameter.
    max_speakers: int | None = None

    @property
    def bytes_per_frame(self) -> int:
        """Bytes of one sample frame (all channels, s16le)."""
        return 2 * self.channels

    def to_query(self) -> dict[str, str | list[str]]:
        """The query parameters that reproduce these settings (what a client sends).

        A list value is a repeated parameter (`keyterm`): encode with `urlencode(doseq=True)`.
        """
        query: dict[str, str | list[str]] = {
            "encoding": self.encoding,
            "sample_rate": str(self.sample_rate),
            "channels": str(self.channels),
            "interim_results": _bool_text(self.interim_results),
            "endpointing": "false" if self.endpointing_ms is None else str(self.endpointing_ms),
            "language": self.language,
        }
        if self.multichannel:
            query["multichannel"] = "true"
        if self.utterance_end_ms is not None:
            query["utterance_end_ms"] = str(self.utterance_end_ms)
        if self.vad_events:
            query["vad_events"] = "true"
        if self.model:
            query["model"] = self.model
        if self.stream_offset_s > 0:
            query["stream_offset"] = f"{self.stream_offset_s:.4f}"
        if self.keyterms:
            query["keyterm"] = list(self.keyterms)
        if self.diarize:
            query["diarize"] = "true"
        if self.max_speakers is not None:
            query["max_speakers"] = str(self.max_speakers)
        return query


def _bool_text(value: bool) -> str:
    return "true" if value else "false"


QueryValues = Mapping[str, str | Sequence[str]]


def _single(query: QueryValues, name: str) -> str | None:
    raw = query.get(name)
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw
    if len(raw) == 0:
        return None
    if len(raw) > 1 and len(set(raw)) > 1:
        raise ParamError(name, ",".join(raw), "given more than once with different values")
    return raw[0]


def _every(query: QueryValues, name: str) -> list[str]:
    raw = query.get(name)
    if raw is None:
        return []
    return [raw] if isinstance(raw, str) else list(raw)


def clean_keyterm(term: str, param: str = "keyterm") -> str:
    """A term as it is used: ends trimmed, inner whitespace one space; ParamError if unusable."""
    cleaned = " ".join(term.split())
    if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in term.strip()):
        raise ParamError(param, term, "must not contain control characters")
    if not 1 <= len(cleaned) <= MAX_KEYTERM_CHARS:
        raise ParamError(param, term, f"must be 1 to {MAX_KEYTERM_CHARS} characters")
    return cleaned


def clean_keyterms(terms: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """(parameter, term) pairs -> the terms in order, duplicates dropped, within the limits."""
    kept: dict[str, None] = {}
    size = 0
    for param, term in terms:
        cleaned = clean_keyterm(term, param)
        if cleaned in kept:
            continue
        if len(kept) == MAX_KEYTERMS:
            raise ParamError(param, term, f"at most {MAX_KEYTERMS} different terms are accepted")
        size += len(cleaned.encode("utf-8"))
        if size > MAX_KEYTERM_BYTES:
            raise ParamError(
                param, term, f"all terms together must fit in {MAX_KEYTERM_BYTES} bytes of UTF-8"
            )
        kept[cleaned] = None
    return tuple(kept)


def _parse_keyterms(query: QueryValues) -> tuple[str, ...]:
    pairs = [("keyterm", term) for term in _every(query, "keyterm")]
    pairs += [("keywords", _KEYWORD_BOOST.sub("", word)) for word in _every(query, "keywords")]
    return clean_keyterms(pairs)


def _parse_bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ParamError(name, value, "must be true or false")


def _parse_int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ParamError(name, value, "must be a whole number") from None
    if not low <= number <= high:
        raise ParamError(name, value, f"must be between {low} and {high}")
    return number


def parse_params(query: QueryValues) -> StreamParams:
    """Validate handshake parameters; raise ParamError naming the first bad one."""
    defaults = StreamParams()
    encoding = _single(query, "encoding")
    if encoding is not None and encoding.strip().lower() not in SUPPORTED_ENCODINGS:
        raise ParamError(
            "encoding", encoding, "only linear16 (16-bit little-endian PCM) is supported"
        )

    sample_rate = defaults.sample_rate
    if (raw := _single(query, "sample_rate")) is not None:
        sample_rate = _parse_int("sample_rate", raw, MIN_SAMPLE_RATE, MAX_SAMPLE_RATE)

    multichannel = defaults.multichannel
    if (raw := _single(query, "multichannel")) is not None:
        multichannel = _parse_bool("multichannel", raw)

    channels = defaults.channels
    if (raw := _single(query, "channels")) is not None:
        try:
            channels = int(raw.strip())
        except ValueError:
            raise ParamError("channels", raw, "must be 1 or 2") from None
        if channels not in (1, 2):
            raise ParamError("channels", raw, "must be 1 or 2")
        if channels == 2 and not multichannel:
            raise ParamError("channels", raw, "2 channels need multichannel=true")

    interim_results = defaults.interim_results
    if (raw := _single(query, "interim_results")) is not None:
        interim_results = _parse_bool("interim_results", raw)

    endpointing_ms: int | None = defaults.endpointing_ms
    if (raw := _single(query, "endpointing")) is not None:
        if raw.strip().lower() == "false":
            endpointing_ms = None
        elif raw.strip().lower() == "true":
            endpointing_ms = defaults.endpointing_ms
        else:
            endpointing_ms = _parse_int("endpointing", raw, 10, 10000)

    utterance_end_ms = None
    if (raw := _single(query, "utterance_end_ms")) is not None:
        utterance_end_ms = _parse_int("utterance_end_ms", raw, 1000, 10000)

    vad_events = defaults.vad_events
    if (raw := _single(query, "vad_events")) is not None:
        vad_events = _parse_bool("vad_events", raw)

    language = defaults.language
    if (raw := _single(query, "language")) is not None:
        language = raw.strip()
        if not language or len(language) > 16 or not language.replace("-", "").isalnum():
            raise ParamError("language", raw, "must be a language code such as en or en-US")

    model = _single(query, "model")
    if model is not None:
        model = model.strip() or None

    stream_offset_s = 0.0
    if (raw := _single(query, "stream_offset")) is not None:
        try:
            stream_offset_s = float(raw.strip())
        except ValueError:
            raise ParamError("stream_offset", raw, "must be seconds (a number >= 0)") from None
        if not 0 <= stream_offset_s < 1e7:
            raise ParamError("stream_offset", raw, "must be seconds (a number >= 0)")

    diarize = defaults.diarize
    if (raw := _single(query, "diarize")) is not None:
        diarize = _parse_bool("diarize", raw)
    if (raw := _single(query, "diarize_model")) is not None:
        if raw.strip().lower() not in DIARIZE_MODELS:
            raise ParamError("diarize_model", raw, "must be v1 or latest")
        diarize = True

    max_speakers = None
    if (raw := _single(query, "max_speakers")) is not None:
        max_speakers = _parse_int("max_speakers", raw, 1, MAX_SPEAKERS)
        if not diarize:  # it would do nothing: the client most likely forgot diarize
            raise ParamError("max_speakers", raw, "needs diarize=true (it caps the speaker labels)")

    return StreamParams(
        encoding="linear16",
        sample_rate=sample_rate,
        channels=channels,
        multichannel=multichannel,
        interim_results=interim_results,
        endpointing_ms=endpointing_ms,
        utterance_end_ms=utterance_end_ms,
        vad_events=vad_events,
        language=language,
        model=model,
        stream_offset_s=stream_offset_s,
        keyterms=_parse_keyterms(query),
        diarize=diarize,
        max_speakers=max_speakers,
    )
