import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import ProtocolError
from app.protocol.messages import (
    Control,
    Error,
    Metadata,
    Results,
    SpeechStarted,
    UtteranceEnd,
    Warning,
    Word,
    encode,
    encode_control,
    parse_control,
    parse_server_message,
)


def test_results_has_the_fields_simple_clients_read() -> None:
    results = Results(
        "hello world",
        True,
        True,
        1.2,
        0.85,
        channel=1,
        channels=2,
        words=(Word("hello", 1.2, 1.5, 0.93), Word("world", 1.5, 2.05)),
        confidence=0.91,
    )
    payload = json.loads(encode(results))
    assert payload["type"] == "Results"
    assert payload["transcript"] == "hello world"
    assert payload["is_final"] is True and payload["speech_final"] is True
    assert payload["channel_index"] == [1, 2]
    alternative = payload["channel"]["alternatives"][0]
    assert alternative["transcript"] == "hello world"
    assert alternative["words"][0] == {
        "word": "hello",
        "start": 1.2,
        "end": 1.5,
        "confidence": 0.93,
    }


def test_speech_final_only_with_is_final() -> None:
    payload = json.loads(encode(Results("x", False, True, 0, 1)))
    assert payload["speech_final"] is False


@pytest.mark.parametrize(
    "message",
    [
        Results("a b", True, False, 0.5, 1.0, words=(Word("a", 0.5, 0.9, 0.5),), confidence=0.5),
        UtteranceEnd(2.5, 0, 1),
        SpeechStarted(1.25, 1, 2),
        Warning("PROVIDER_FAILOVER", "moved to whisper"),
        Error("INVALID_DATA", "bad"),
        Metadata("id", "2026-01-01T00:00:00Z", 3.5, 1, "tiny.en", "whisper"),
    ],
)
def test_server_messages_round_trip(message: object) -> None:
    assert parse_server_message(encode(message)) == message  # type: ignore[arg-type]


def test_unknown_server_message_type_is_ignored() -> None:
    assert parse_server_message('{"type":"TurnInfo"}') is None


@pytest.mark.parametrize("control", list(Control))
def test_control_round_trip(control: Control) -> None:
    assert parse_control(encode_control(control)) is control


@pytest.mark.parametrize("text", ["{", "[]", '"KeepAlive"', '{"type": 3}', "{}", ""])
def test_malformed_control_is_invalid_data(text: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_control(text)
    assert info.value.close_code == 1007


def test_unknown_control_type_is_not_an_error() -> None:
    assert parse_control('{"type":"Configure"}') is None


@given(st.text(max_size=200))
def test_control_parser_accepts_or_rejects_any_text(text: str) -> None:
    try:
        result = parse_control(text)
    except ProtocolError as exc:
        assert exc.close_code == 1007
    else:
        assert result is None or isinstance(result, Control)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats(allow_nan=False) | st.text(max_size=8),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_server_message_parser_never_crashes(value: object) -> None:
    text = json.dumps({"type": "Results", "channel": value, "start": value})
    with contextlib.suppress(ProtocolError):
        parse_server_message(text)
