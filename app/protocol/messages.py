"""Protocol messages (docs/server.md, Protocol): build, serialise and parse, with no I/O.

Server messages are shaped like Deepgram's live API so its SDKs and the seed article's client
read them; the top-level `transcript`/`is_final`/`speech_final` duplicate the nested fields
because that is what simple clients read.
"""

from __future__ import annotations

import json
import math
import string
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from app.errors import ProtocolError
from app.protocol.close_codes import CloseCode

# What Deepgram's plain `word` leaves off around a word (its `punctuated_word` keeps it).
_EDGE_PUNCTUATION = string.punctuation + "“”‘’«»¿¡…–—"


def plain_word(shown: str) -> str:
    """Deepgram's `word`: lower case, without the punctuation around it."""
    return shown.strip(_EDGE_PUNCTUATION).lower() or shown.lower()


@dataclass(frozen=True)
class Word:
    word: str  # as shown: cased and punctuated (Deepgram's `punctuated_word`)
    start: float
    end: float
    confidence: float = 1.0
    speaker: int | None = None  # with diarize: who said it, from 0 (Deepgram's labels)

    def to_dict(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "word": plain_word(self.word),
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "confidence": round(self.confidence, 3),
            "punctuated_word": self.word,
        }
        if self.speaker is not None:
            wire["speaker"] = self.speaker
        return wire


@dataclass(frozen=True)
class ResultsMetadata:
    """Deepgram's `metadata` on each Results: which session and model produced it."""

    request_id: str
    model_name: str
    model_version: str = ""
    model_arch: str = ""
    model_uuid: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "model_info": {
                "name": self.model_name,
                "version": self.model_version,
                "arch": self.model_arch,
            },
            "model_uuid": self.model_uuid,
        }


@dataclass(frozen=True)
class Results:
    transcript: str
    is_final: bool
    speech_final: bool
    start: float
    duration: float
    channel: int = 0
    channels: int = 1
    words: tuple[Word, ...] = ()
    confidence: float = 1.0
    from_finalize: bool = False
    # Stamped by the server that sends it (engines do not know the session).
    metadata: ResultsMetadata | None = None

    def to_dict(self) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "Results",
            "transcript": self.transcript,
            "is_final": self.is_final,
            "speech_final": self.speech_final and self.is_final,
            "start": round(self.start, 3),
            "duration": round(self.duration, 3),
            "channel_index": [self.channel, self.channels],
            "channel": {
                "alternatives": [
                    {
                        "transcript": self.transcript,
                        "confidence": round(self.confidence, 3),
                        "words": [w.to_dict() for w in self.words],
                    }
                ]
            },
        }
        if self.metadata is not None:
            message["metadata"] = self.metadata.to_dict()
        if self.from_finalize:
            message["from_finalize"] = True
        return message


@dataclass(frozen=True)
class UtteranceEnd:
    last_word_end: float
    channel: int = 0
    channels: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "UtteranceEnd",
            "channel": [self.channel, self.channels],
            "last_word_end": round(self.last_word_end, 3),
        }


@dataclass(frozen=True)
class SpeechStarted:
    timestamp: float
    channel: int = 0
    channels: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "SpeechStarted",
            "channel": [self.channel, self.channels],
            "timestamp": round(self.timestamp, 3),
        }


@dataclass(frozen=True)
class Metadata:
    request_id: str
    created: str
    duration: float
    channels: int
    model: str
    engine: str
    sha256: str = ""  # of the audio received, as Deepgram reports it
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "Metadata",
            "transaction_key": "deprecated",
            "request_id": self.request_id,
            "sha256": self.sha256,
            "created": self.created,
            "duration": round(self.duration, 3),
            "channels": self.channels,
            "model_info": {"name": self.model, "engine": self.engine},
            **self.extra,
        }


@dataclass(frozen=True)
class Warning:
    code: str
    message: str  # for people: shown, never parsed
    # After an engine switch, the engine now live; on the wire only then (Deepgram ignores it).
    engine: str | None = None

    def to_dict(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"type": "Warning", "code": self.code, "message": self.message}
        if self.engine is not None:
            wire["engine"] = self.engine
        return wire


@dataclass(frozen=True)
class Error:
    code: str
    message: str
    # The close that follows (not on the wire): what a server's engine asks for.
    close_code: int = field(default=CloseCode.INTERNAL, compare=False)

    def to_dict(self) -> dict[str, Any]:
        # Deepgram's SDKs read `variant` and `description`; our clients read `code`/`message`.
        return {
            "type": "Error",
            "code": self.code,
            "message": self.message,
            "variant": self.code,
            "description": self.message,
        }


ServerMessage = Results | UtteranceEnd | SpeechStarted | Metadata | Warning | Error


def encode(message: ServerMessage) -> str:
    return json.dumps(message.to_dict(), separators=(",", ":"), ensure_ascii=False)


PROVIDER_FAILOVER = "PROVIDER_FAILOVER"
PROVIDER_FAILBACK = "PROVIDER_FAILBACK"
# Auto's model switches inside the local engine: the better model fell behind real time, and
# (later) the better model is back.
MODEL_STEP_DOWN = "MODEL_STEP_DOWN"
MODEL_STEP_UP = "MODEL_STEP_UP"
ENGINE_SWITCHES = (PROVIDER_FAILOVER, PROVIDER_FAILBACK, MODEL_STEP_DOWN, MODEL_STEP_UP)


def provider_switch(code: str, live_engine: str, reason: str) -> Warning:
    """The Warning a server sends when a session moves to another engine."""
    return Warning(code, f"switched to {live_engine}: {reason}", engine=live_engine)


def live_engine_of(warning: Warning) -> str | None:
    """Which engine is live after an engine switch warning (None for other warnings)."""
    return warning.engine or None


class Control(Enum):
    """Text messages a client may send."""

    KEEP_ALIVE = "KeepAlive"
    FINALIZE = "Finalize"
    CLOSE_STREAM = "CloseStream"


def encode_control(control: Control) -> str:
    return json.dumps({"type": control.value})


def parse_control(text: str) -> Control | None:
    """Parse a client text frame. None for a well-formed message of an unknown type.

    Raises ProtocolError(1007) for text that is not a JSON object with a string `type`.
    """
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError(CloseCode.INVALID_DATA, "malformed JSON in text frame") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise ProtocolError(CloseCode.INVALID_DATA, 'text frame must be {"type": "..."}')
    try:
        return Control(payload["type"])
    except ValueError:
        return None


def _float(payload: dict[str, Any], key: str) -> float:
    value = payload.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(CloseCode.INVALID_DATA, f"{key} must be a number")
    if not math.isfinite(value):
        raise ProtocolError(CloseCode.INVALID_DATA, f"{key} must be a finite number")
    return float(value)


def _count(payload: dict[str, Any], key: str) -> int:
    value = payload.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 16:
        raise ProtocolError(CloseCode.INVALID_DATA, f"{key} must be a small whole number")
    return value


def _speaker(raw: dict[str, Any]) -> int | None:
    value = raw.get("speaker")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 16:
        raise ProtocolError(CloseCode.INVALID_DATA, "speaker must be a small whole number")
    return value


def _text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return value if isinstance(value, str) else ""


def _results_metadata(value: Any) -> ResultsMetadata | None:
    """Read leniently: it names the session, and a shape we do not know loses no word."""
    if not isinstance(value, dict):
        return None
    info = value.get("model_info")
    info = info if isinstance(info, dict) else {}
    return ResultsMetadata(
        request_id=_text(value, "request_id"),
        model_name=_text(info, "name"),
        model_version=_text(info, "version"),
        model_arch=_text(info, "arch"),
        model_uuid=_text(value, "model_uuid"),
    )


def _channel_pair(value: Any) -> tuple[int, int]:
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return value[0], value[1]
    return 0, 1


def _best_alternative(payload: dict[str, Any]) -> dict[str, Any]:
    channel = payload.get("channel")
    alternatives = channel.get("alternatives") if isinstance(channel, dict) else None
    if isinstance(alternatives, list) and alternatives and isinstance(alternatives[0], dict):
        return alternatives[0]
    return {}


def _parse_results(payload: dict[str, Any]) -> Results:
    best = _best_alternative(payload)
    transcript = payload.get("transcript", best.get("transcript", ""))
    if not isinstance(transcript, str):
        raise ProtocolError(CloseCode.INVALID_DATA, "transcript must be a string")
    words = []
    raw_words = best.get("words") or []
    if not isinstance(raw_words, list):
        raise ProtocolError(CloseCode.INVALID_DATA, "words must be a list")
    for raw in raw_words:
        if not isinstance(raw, dict) or not isinstance(raw.get("word"), str):
            raise ProtocolError(CloseCode.INVALID_DATA, "malformed word in Results")
        text = raw.get("punctuated_word") or raw["word"]
        words.append(
            Word(
                str(text),
                _float(raw, "start"),
                _float(raw, "end"),
                _float(raw, "confidence"),
                _speaker(raw),
            )
        )
    channel, channels = _channel_pair(payload.get("channel_index"))
    is_final = bool(payload.get("is_final", False))
    return Results(
        transcript=transcript,
        is_final=is_final,
        speech_final=bool(payload.get("speech_final", False)) and is_final,
        start=_float(payload, "start"),
        duration=_float(payload, "duration"),
        channel=channel,
        channels=channels,
        words=tuple(words),
        confidence=_float(best, "confidence") if "confidence" in best else 1.0,
        from_finalize=bool(payload.get("from_finalize", False)),
        metadata=_results_metadata(payload.get("metadata")),
    )


# Metadata's fields read into its attributes; any other passes through in `extra`.
_METADATA_FIELDS = frozenset(
    ("type", "transaction_key", "request_id", "sha256", "created", "duration", "channels")
) | {"model_info"}


def parse_server_message(text: str) -> ServerMessage | None:
    """Parse a server text frame; None for a message type this client does not know."""
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError(CloseCode.INVALID_DATA, "server sent malformed JSON") from None
    if not isinstance(payload, dict):
        raise ProtocolError(CloseCode.INVALID_DATA, "server message is not a JSON object")
    kind = payload.get("type")
    if kind == "Results":
        return _parse_results(payload)
    if kind == "UtteranceEnd":
        channel, channels = _channel_pair(payload.get("channel"))
        return UtteranceEnd(_float(payload, "last_word_end"), channel, channels)
    if kind == "SpeechStarted":
        channel, channels = _channel_pair(payload.get("channel"))
        return SpeechStarted(_float(payload, "timestamp"), channel, channels)
    if kind == "Metadata":
        info = payload.get("model_info") or {}
        return Metadata(
            request_id=str(payload.get("request_id", "")),
            created=str(payload.get("created", "")),
            duration=_float(payload, "duration"),
            channels=_count(payload, "channels"),
            model=str(info.get("name", "")) if isinstance(info, dict) else "",
            engine=str(info.get("engine", "")) if isinstance(info, dict) else "",
            sha256=str(payload.get("sha256", "")),
            extra={k: v for k, v in payload.items() if k not in _METADATA_FIELDS},
        )
    if kind == "Warning":
        code, message = str(payload.get("code", "")), str(payload.get("message", ""))
        return Warning(code, message, _text(payload, "engine") or None)
    if kind == "Error":
        # Deepgram's `description` says what went wrong (its `message` may echo a bad frame).
        message = payload.get("description") or payload.get("message") or ""
        return Error(str(payload.get("code", payload.get("variant", ""))), str(message))
    return None
