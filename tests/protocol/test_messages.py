import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import ProtocolError
from app.protocol.messages import (
    PROVIDER_FAILBACK,
    PROVIDER_FAILOVER,
    Control,
    Error,
    Metadata,
    Results,
    ResultsMetadata,
    ServerMessage,
    SpeechStarted,
    UtteranceEnd,
    Warning,
    Word,
    encode,
    encode_control,
    live_engine_of,
    parse_control,
    parse_server_message,
    provider_switch,
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
        "punctuated_word": "hello",
    }


def test_speech_final_only_with_is_final() -> None:
    payload = json.loads(encode(Results("x", False, True, 0, 1)))
    assert payload["speech_final"] is False


@pytest.mark.parametrize(
    "message",
    [
        Results("a b", True, False, 0.5, 1.0, words=(Word("a", 0.5, 0.9, 0.5),), confidence=0.5),
        Results(
            "Hi, you.",
            True,
            True,
            0.0,
            1.0,
            words=(Word("Hi,", 0.1, 0.4, 0.9, speaker=0), Word("you.", 0.5, 0.8, speaker=1)),
            metadata=ResultsMetadata("id", "tiny.en", model_arch="whisper"),
        ),
        UtteranceEnd(2.5, 0, 1),
        SpeechStarted(1.25, 1, 2),
        Warning("PROVIDER_FAILOVER", "moved to whisper"),
        Error("INVALID_DATA", "bad"),
        Metadata("id", "2026-01-01T00:00:00Z", 3.5, 1, "tiny.en", "whisper", sha256="ab12"),
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


# -- Wire field names, pinned against literal Deepgram-shaped samples ----------------------
# The round trip above passes even when a field is renamed on both sides; these samples are
# written out by hand (Deepgram's live API docs, docs/server.md, Protocol), so a renamed, retyped or
# missing field on either side fails. Values are not the dataclass defaults, so a field the
# parser silently defaults cannot pass.

# Deepgram's words: `word` plain and lower case, `punctuated_word` as shown, `speaker` with
# diarize; `metadata` names the session and the model.
RESULTS_FINAL_JSON = """{
  "type": "Results",
  "transcript": "Hello, world.",
  "is_final": true,
  "speech_final": true,
  "start": 1.2,
  "duration": 0.85,
  "channel_index": [1, 2],
  "channel": {
    "alternatives": [
      {
        "transcript": "Hello, world.",
        "confidence": 0.91,
        "words": [
          {"word": "hello", "start": 1.2, "end": 1.5, "confidence": 0.93,
           "punctuated_word": "Hello,", "speaker": 0},
          {"word": "world", "start": 1.5, "end": 2.05, "confidence": 0.89,
           "punctuated_word": "world.", "speaker": 1}
        ]
      }
    ]
  },
  "metadata": {
    "request_id": "5d6c8a4e-1f0b-4c1e-9a43-3d1f2c6b7e80",
    "model_info": {"name": "tiny.en", "version": "", "arch": "whisper"},
    "model_uuid": ""
  }
}"""
RESULTS_FINAL = Results(
    "Hello, world.",
    is_final=True,
    speech_final=True,
    start=1.2,
    duration=0.85,
    channel=1,
    channels=2,
    words=(
        Word("Hello,", 1.2, 1.5, 0.93, speaker=0),
        Word("world.", 1.5, 2.05, 0.89, speaker=1),
    ),
    confidence=0.91,
    metadata=ResultsMetadata(
        "5d6c8a4e-1f0b-4c1e-9a43-3d1f2c6b7e80", "tiny.en", model_arch="whisper"
    ),
)

RESULTS_INTERIM_JSON = """{
  "type": "Results",
  "transcript": "ask not",
  "is_final": false,
  "speech_final": false,
  "start": 3.0,
  "duration": 1.25,
  "channel_index": [0, 1],
  "channel": {
    "alternatives": [
      {
        "transcript": "ask not",
        "confidence": 0.7,
        "words": [
          {"word": "ask", "start": 3.1, "end": 3.4, "confidence": 0.8, "punctuated_word": "Ask"},
          {"word": "not", "start": 3.4, "end": 3.9, "confidence": 0.6, "punctuated_word": "not"}
        ]
      }
    ]
  }
}"""
RESULTS_INTERIM = Results(
    "ask not",
    is_final=False,
    speech_final=False,
    start=3.0,
    duration=1.25,
    words=(Word("Ask", 3.1, 3.4, 0.8), Word("not", 3.4, 3.9, 0.6)),
    confidence=0.7,
)

# A Finalize answer: Deepgram marks it `from_finalize` (absent from every other Results).
RESULTS_FROM_FINALIZE_JSON = """{
  "type": "Results",
  "transcript": "",
  "is_final": true,
  "speech_final": false,
  "start": 7.5,
  "duration": 0.5,
  "channel_index": [0, 1],
  "channel": {"alternatives": [{"transcript": "", "confidence": 0.0, "words": []}]},
  "from_finalize": true
}"""
RESULTS_FROM_FINALIZE = Results("", True, False, 7.5, 0.5, confidence=0.0, from_finalize=True)

UTTERANCE_END_JSON = '{"type": "UtteranceEnd", "channel": [1, 2], "last_word_end": 2.395}'
SPEECH_STARTED_JSON = '{"type": "SpeechStarted", "channel": [1, 2], "timestamp": 9.54}'

METADATA_JSON = """{
  "type": "Metadata",
  "transaction_key": "deprecated",
  "request_id": "5d6c8a4e-1f0b-4c1e-9a43-3d1f2c6b7e80",
  "sha256": "154e291ecfa8be6ab8343560bcc109008fa7853eb5372533e8efdefc9b504c33",
  "created": "2026-01-02T03:04:05.678Z",
  "duration": 25.5,
  "channels": 2,
  "model_info": {"name": "tiny.en", "engine": "whisper"},
  "stream_end": 40.25
}"""
METADATA = Metadata(
    "5d6c8a4e-1f0b-4c1e-9a43-3d1f2c6b7e80",
    "2026-01-02T03:04:05.678Z",
    25.5,
    2,
    "tiny.en",
    "whisper",
    sha256="154e291ecfa8be6ab8343560bcc109008fa7853eb5372533e8efdefc9b504c33",
    extra={"stream_end": 40.25},
)

WARNING_JSON = (
    '{"type": "Warning", "code": "PROVIDER_FAILOVER", "message": "switched to whisper: 1011"}'
)
# `code`/`message` are ours (and Deepgram's older frames'); Deepgram's SDKs read `variant` and
# `description`.
ERROR_JSON = (
    '{"type": "Error", "code": "INVALID_DATA", "message": "audio is not linear16",'
    ' "variant": "INVALID_DATA", "description": "audio is not linear16"}'
)

WIRE_SAMPLES = [
    pytest.param(RESULTS_FINAL_JSON, RESULTS_FINAL, id="Results-final"),
    pytest.param(RESULTS_INTERIM_JSON, RESULTS_INTERIM, id="Results-interim"),
    pytest.param(RESULTS_FROM_FINALIZE_JSON, RESULTS_FROM_FINALIZE, id="Results-from_finalize"),
    pytest.param(UTTERANCE_END_JSON, UtteranceEnd(2.395, 1, 2), id="UtteranceEnd"),
    pytest.param(SPEECH_STARTED_JSON, SpeechStarted(9.54, 1, 2), id="SpeechStarted"),
    pytest.param(METADATA_JSON, METADATA, id="Metadata"),
    pytest.param(
        WARNING_JSON,
        Warning("PROVIDER_FAILOVER", "switched to whisper: 1011"),
        id="Warning",
    ),
    pytest.param(ERROR_JSON, Error("INVALID_DATA", "audio is not linear16"), id="Error"),
]


def _typed(value: object) -> object:
    """JSON with each leaf paired with its type: `true` is not `1`, `2` is not `2.0`."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


@pytest.mark.parametrize(("sample", "message"), WIRE_SAMPLES)
def test_encode_writes_exactly_the_deepgram_field_names_and_types(
    sample: str, message: ServerMessage
) -> None:
    assert _typed(json.loads(encode(message))) == _typed(json.loads(sample))


@pytest.mark.parametrize(("sample", "message"), WIRE_SAMPLES)
def test_parsing_a_literal_sample_gives_the_message_it_describes(
    sample: str, message: ServerMessage
) -> None:
    assert parse_server_message(sample) == message


def test_a_results_message_from_deepgram_itself_parses_with_its_punctuated_words() -> None:
    """What Deepgram's cloud sends: no top-level transcript, `punctuated_word`, `metadata`."""
    sample = """{
      "type": "Results",
      "channel_index": [0, 1],
      "duration": 1.98,
      "start": 5.99,
      "is_final": true,
      "speech_final": true,
      "channel": {
        "alternatives": [
          {
            "transcript": "Another big problem.",
            "confidence": 0.98,
            "languages": [],
            "words": [
              {"word": "another", "start": 6.08, "end": 6.32, "confidence": 0.97,
               "punctuated_word": "Another", "speaker": 0},
              {"word": "big", "start": 6.32, "end": 6.56, "confidence": 0.99,
               "punctuated_word": "big", "speaker": 0},
              {"word": "problem", "start": 6.56, "end": 7.04, "confidence": 0.98,
               "punctuated_word": "problem.", "speaker": 1}
            ]
          }
        ]
      },
      "metadata": {
        "request_id": "a7f3c1d2-0000-4000-8000-000000000001",
        "model_info": {"name": "2-general-nova", "version": "2024-01-09.29447", "arch": "nova-3"},
        "model_uuid": "1ed36bac-f71c-4f3f-a31f-02fd6525c489"
      },
      "from_finalize": false
    }"""
    assert parse_server_message(sample) == Results(
        "Another big problem.",
        is_final=True,
        speech_final=True,
        start=5.99,
        duration=1.98,
        words=(
            Word("Another", 6.08, 6.32, 0.97, speaker=0),
            Word("big", 6.32, 6.56, 0.99, speaker=0),
            Word("problem.", 6.56, 7.04, 0.98, speaker=1),
        ),
        confidence=0.98,
        metadata=ResultsMetadata(
            "a7f3c1d2-0000-4000-8000-000000000001",
            "2-general-nova",
            model_version="2024-01-09.29447",
            model_arch="nova-3",
            model_uuid="1ed36bac-f71c-4f3f-a31f-02fd6525c489",
        ),
    )


def test_a_metadata_message_from_deepgram_itself_keeps_its_identity_and_duration() -> None:
    """Deepgram's `model_info` is keyed by model UUID; its unknown fields pass through."""
    sample = """{
      "type": "Metadata",
      "transaction_key": "deprecated",
      "request_id": "a7f3c1d2-0000-4000-8000-000000000002",
      "sha256": "154e291ecfa8be6ab8343560bcc109008fa7853eb5372533e8efdefc9b504c33",
      "created": "2024-02-06T19:56:16.180Z",
      "duration": 25.933313,
      "channels": 1,
      "models": ["1ed36bac-f71c-4f3f-a31f-02fd6525c489"],
      "model_info": {
        "1ed36bac-f71c-4f3f-a31f-02fd6525c489": {
          "name": "2-general-nova", "version": "2024-01-09.29447", "arch": "nova-2"
        }
      }
    }"""
    parsed = parse_server_message(sample)
    assert isinstance(parsed, Metadata)
    assert (parsed.request_id, parsed.created, parsed.duration, parsed.channels) == (
        "a7f3c1d2-0000-4000-8000-000000000002",
        "2024-02-06T19:56:16.180Z",
        25.933313,
        1,
    )
    assert parsed.extra["models"] == ["1ed36bac-f71c-4f3f-a31f-02fd6525c489"]


def test_an_error_from_deepgram_itself_reads_its_variant_and_description() -> None:
    """Deepgram's SDKs read `variant` and `description`; ours sends `code` and `message`."""
    sample = (
        '{"type": "Error", "variant": "DATA-0000", "message": "",'
        ' "description": "Failed to process audio"}'
    )
    assert parse_server_message(sample) == Error("DATA-0000", "Failed to process audio")


@pytest.mark.parametrize(
    ("sample", "control"),
    [
        ('{"type": "KeepAlive"}', Control.KEEP_ALIVE),
        ('{"type": "Finalize"}', Control.FINALIZE),
        ('{"type": "CloseStream"}', Control.CLOSE_STREAM),
    ],
)
def test_client_controls_are_deepgrams_literal_messages(sample: str, control: Control) -> None:
    assert json.loads(encode_control(control)) == json.loads(sample)
    assert parse_control(sample) is control


# -- Serialising details and the parser's defaults and refusals ----------------------------


def test_times_and_confidences_go_on_the_wire_to_the_millisecond() -> None:
    word = Word("hi", 1.23456, 2.34567, 0.98765)
    results = Results("hi", True, True, 1.00049, 2.00051, words=(word,), confidence=0.12345)
    wire = json.loads(encode(results))
    alternative = wire["channel"]["alternatives"][0]
    assert alternative["words"] == [
        {"word": "hi", "start": 1.235, "end": 2.346, "confidence": 0.988, "punctuated_word": "hi"}
    ]
    assert (wire["start"], wire["duration"], alternative["confidence"]) == (1.0, 2.001, 0.123)
    assert json.loads(encode(UtteranceEnd(2.34567)))["last_word_end"] == 2.346
    assert json.loads(encode(SpeechStarted(9.87654)))["timestamp"] == 9.877
    assert json.loads(encode(Metadata("r", "c", 25.12345, 1, "m", "e")))["duration"] == 25.123


def test_a_message_is_one_compact_line_of_utf8_json() -> None:
    assert encode(Warning("W", "café")) == '{"type":"Warning","code":"W","message":"café"}'


@pytest.mark.parametrize("code", [PROVIDER_FAILOVER, PROVIDER_FAILBACK])
def test_a_provider_switch_names_the_engine_now_live(code: str) -> None:
    warning = provider_switch(code, "deepgram", "whisper failed: 1011: engine gone")
    text = "switched to deepgram: whisper failed: 1011: engine gone"  # for people, as before
    assert warning == Warning(code, text, engine="deepgram")
    assert live_engine_of(warning) == "deepgram"


@pytest.mark.parametrize(
    "warning",
    [
        Warning("SOMETHING_ELSE", "switched to deepgram: reason"),
        Warning(PROVIDER_FAILOVER, "switched to : reason"),
    ],
)
def test_other_warnings_name_no_live_engine(warning: Warning) -> None:
    assert live_engine_of(warning) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "malformed JSON in text frame"),
        ('{"kind": "KeepAlive"}', 'text frame must be {"type": "..."}'),
    ],
)
def test_a_bad_control_frame_says_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_control(text)
    assert (info.value.close_code, info.value.reason) == (1007, reason)


def test_a_bare_results_message_reads_with_deepgrams_defaults() -> None:
    assert parse_server_message('{"type": "Results"}') == Results("", False, False, 0.0, 0.0)
    empty = '{"type": "Results", "is_final": true, "channel": {"alternatives": []}}'
    assert parse_server_message(empty) == Results("", True, False, 0.0, 0.0)


def test_the_top_level_transcript_wins_over_the_alternatives() -> None:
    text = (
        '{"type": "Results", "transcript": "top",'
        ' "channel": {"alternatives": [{"transcript": "nested"}]}}'
    )
    parsed = parse_server_message(text)
    assert isinstance(parsed, Results) and parsed.transcript == "top"
    nested = '{"type": "Results", "channel": {"alternatives": [{"transcript": "nested"}]}}'
    parsed = parse_server_message(nested)
    assert isinstance(parsed, Results) and parsed.transcript == "nested"


@pytest.mark.parametrize(
    ("channel_index", "expected"),
    [("[1, 2]", (1, 2)), ("[true, 2]", (0, 1)), ("[0]", (0, 1)), ('"1/2"', (0, 1))],
)
def test_a_channel_index_that_is_not_two_whole_numbers_means_channel_0_of_1(
    channel_index: str, expected: tuple[int, int]
) -> None:
    parsed = parse_server_message(f'{{"type": "Results", "channel_index": {channel_index}}}')
    assert isinstance(parsed, Results) and (parsed.channel, parsed.channels) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{oops", "server sent malformed JSON"),
        ("[1, 2]", "server message is not a JSON object"),
        ('{"type": "Results", "transcript": 5}', "transcript must be a string"),
        (
            '{"type": "Results", "channel": {"alternatives": [{"words": {"a": 1}}]}}',
            "words must be a list",
        ),
        (
            '{"type": "Results", "channel": {"alternatives": [{"words": [{"text": "x"}]}]}}',
            "malformed word in Results",
        ),
        (
            '{"type": "Results", "channel": {"alternatives": [{"words": [5]}]}}',
            "malformed word in Results",
        ),
        ('{"type": "Results", "start": "1.5"}', "start must be a number"),
        ('{"type": "Results", "duration": true}', "duration must be a number"),
        ('{"type": "Results", "start": Infinity}', "start must be a finite number"),
        ('{"type": "Metadata", "channels": -1}', "channels must be a small whole number"),
        ('{"type": "Metadata", "channels": 65536}', "channels must be a small whole number"),
        ('{"type": "Metadata", "channels": "2"}', "channels must be a small whole number"),
        ('{"type": "Metadata", "channels": true}', "channels must be a small whole number"),
    ],
)
def test_a_bad_server_message_is_invalid_data_that_says_what_is_wrong(
    text: str, reason: str
) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_server_message(text)
    assert (info.value.close_code, info.value.reason) == (1007, reason)


@pytest.mark.parametrize(("channels", "expected"), [("0", 0), ("65535", 65535), ("null", 0)])
def test_metadata_channel_counts_at_the_edges_are_read(channels: str, expected: int) -> None:
    parsed = parse_server_message(f'{{"type": "Metadata", "channels": {channels}}}')
    assert isinstance(parsed, Metadata) and parsed.channels == expected


@pytest.mark.parametrize("model_info", ["", ', "model_info": ["tiny.en"]', ', "model_info": {}'])
def test_a_bare_metadata_message_reads_as_empty_fields(model_info: str) -> None:
    parsed = parse_server_message(f'{{"type": "Metadata"{model_info}}}')
    assert parsed == Metadata("", "", 0.0, 0, "", "")


def test_bare_warning_and_error_messages_read_as_empty_fields() -> None:
    assert parse_server_message('{"type": "Warning"}') == Warning("", "")
    assert parse_server_message('{"type": "Error"}') == Error("", "")


# -- Deepgram's fields that simple clients skip: plain words, speakers, metadata, sha256 ------


@pytest.mark.parametrize(
    ("shown", "plain"),
    [
        ("Hello,", "hello"),
        ("world.", "world"),
        ("“Quote”", "quote"),
        ("¿Qué?", "qué"),
        ("don't", "don't"),
        ("U.S.", "u.s"),
        ("...", "..."),  # nothing but punctuation: kept, as there is no plain word in it
    ],
)
def test_a_word_goes_out_plain_as_word_and_as_shown_as_punctuated_word(
    shown: str, plain: str
) -> None:
    wire = Word(shown, 0.0, 1.0).to_dict()
    assert (wire["word"], wire["punctuated_word"]) == (plain, shown)
    parsed = parse_server_message(
        encode(Results(shown, True, True, 0.0, 1.0, words=(Word(shown, 0.0, 1.0),)))
    )
    assert isinstance(parsed, Results) and parsed.words[0].word == shown  # clients show this


def test_a_word_without_a_punctuated_form_reads_as_its_word() -> None:
    """Deepgram without punctuate (or an older server of ours): only `word`."""
    text = '{"type": "Results", "channel": {"alternatives": [{"words": [{"word": "hi"}]}]}}'
    parsed = parse_server_message(text)
    assert isinstance(parsed, Results) and parsed.words == (Word("hi", 0.0, 0.0, 0.0),)
    nulled = text.replace('"hi"}', '"hi", "punctuated_word": null}')
    parsed = parse_server_message(nulled)
    assert isinstance(parsed, Results) and parsed.words[0].word == "hi"


def test_speaker_is_on_the_wire_only_when_a_diarizer_set_it() -> None:
    assert "speaker" not in Word("hi", 0.0, 1.0).to_dict()
    assert Word("hi", 0.0, 1.0, speaker=0).to_dict()["speaker"] == 0
    assert Word("hi", 0.0, 1.0, speaker=3).to_dict()["speaker"] == 3


@pytest.mark.parametrize("speaker", ['"1"', "true", "-1", "1.5", "65536"])
def test_a_speaker_that_is_not_a_small_whole_number_is_invalid_data(speaker: str) -> None:
    text = (
        '{"type": "Results", "channel": {"alternatives": [{"words": '
        f'[{{"word": "hi", "speaker": {speaker}}}]}}]}}}}'
    )
    with pytest.raises(ProtocolError) as info:
        parse_server_message(text)
    assert (info.value.close_code, info.value.reason) == (
        1007,
        "speaker must be a small whole number",
    )


def test_a_null_speaker_reads_as_no_speaker() -> None:
    text = (
        '{"type": "Results", "channel": {"alternatives": [{"words": '
        '[{"word": "hi", "speaker": null}]}]}}'
    )
    parsed = parse_server_message(text)
    assert isinstance(parsed, Results) and parsed.words[0].speaker is None


def test_results_metadata_is_deepgrams_block_and_absent_until_a_server_stamps_it() -> None:
    assert "metadata" not in json.loads(encode(Results("x", True, True, 0.0, 1.0)))
    stamped = Results("x", True, True, 0.0, 1.0, metadata=ResultsMetadata("req-1", "tiny.en"))
    assert json.loads(encode(stamped))["metadata"] == {
        "request_id": "req-1",
        "model_info": {"name": "tiny.en", "version": "", "arch": ""},
        "model_uuid": "",
    }


@pytest.mark.parametrize("metadata", ['"req"', "[]", '{"model_info": 5}'])
def test_a_results_metadata_block_of_another_shape_reads_leniently(metadata: str) -> None:
    """It describes the session, not the words: a block we cannot read is not a reason to fail."""
    parsed = parse_server_message(f'{{"type": "Results", "metadata": {metadata}}}')
    assert isinstance(parsed, Results)
    assert parsed.metadata in (None, ResultsMetadata("", ""))


def test_metadata_carries_the_audio_sha256_and_reads_it_back() -> None:
    wire = json.loads(encode(Metadata("r", "c", 1.0, 1, "m", "e", sha256="ab")))
    assert wire["sha256"] == "ab"
    assert json.loads(encode(Metadata("r", "c", 1.0, 1, "m", "e")))["sha256"] == ""
    parsed = parse_server_message(json.dumps(wire))
    assert isinstance(parsed, Metadata) and parsed.sha256 == "ab" and "sha256" not in parsed.extra


def test_an_error_says_its_code_and_message_under_deepgrams_names_too() -> None:
    wire = json.loads(encode(Error("RATE_LIMIT", "audio arrives too fast")))
    assert (wire["variant"], wire["description"]) == ("RATE_LIMIT", "audio arrives too fast")
    assert (wire["code"], wire["message"]) == ("RATE_LIMIT", "audio arrives too fast")


def test_a_deepgram_schema_error_reads_its_description_not_the_echoed_message() -> None:
    """For a SchemaError Deepgram's `message` is the client's unparsable frame."""
    sample = (
        '{"type": "Error", "variant": "SchemaError", "message": "{oops",'
        ' "description": "could not parse the message"}'
    )
    assert parse_server_message(sample) == Error("SchemaError", "could not parse the message")
