import json
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.client.streamer import StreamClient, stream_url
from app.errors import ParamError
from app.protocol.messages import Control
from app.protocol.params import StreamParams, parse_params
from app.server.server import ServerConfig, TranscriptionServer
from tests.conftest import run
from tests.fakes import ScriptedEngine


def test_defaults_match_the_contract() -> None:
    params = parse_params({})
    assert params == StreamParams()
    assert (params.encoding, params.sample_rate, params.channels) == ("linear16", 16000, 1)
    assert params.interim_results and params.endpointing_ms == 300


def test_deepgram_style_query_is_accepted_and_unknown_options_ignored() -> None:
    params = parse_params(
        {
            "encoding": ["linear16"],
            "sample_rate": ["48000"],
            "channels": ["2"],
            "multichannel": ["true"],
            "interim_results": ["false"],
            "endpointing": ["false"],
            "utterance_end_ms": ["1000"],
            "vad_events": ["true"],
            "model": ["nova-2"],
            "smart_format": ["true"],
            "punctuate": ["true"],
        }
    )
    assert params.sample_rate == 48000 and params.channels == 2 and params.multichannel
    assert not params.interim_results and params.endpointing_ms is None
    assert params.utterance_end_ms == 1000 and params.vad_events and params.model == "nova-2"


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"encoding": "opus"}, "encoding"),
        ({"encoding": "mulaw"}, "encoding"),
        ({"sample_rate": "0"}, "sample_rate"),
        ({"sample_rate": "7999"}, "sample_rate"),
        ({"sample_rate": "96000"}, "sample_rate"),
        ({"sample_rate": "16k"}, "sample_rate"),
        ({"channels": "3"}, "channels"),
        ({"channels": "0"}, "channels"),
        ({"channels": "2"}, "channels"),  # two channels need multichannel=true
        ({"interim_results": "yes"}, "interim_results"),
        ({"endpointing": "-5"}, "endpointing"),
        ({"utterance_end_ms": "10"}, "utterance_end_ms"),
        ({"language": "e n"}, "language"),
        ({"sample_rate": ["16000", "8000"]}, "sample_rate"),
    ],
)
def test_bad_parameter_is_named(query: dict[str, str], param: str) -> None:
    with pytest.raises(ParamError) as info:
        parse_params(query)
    assert info.value.param == param
    assert param in str(info.value)


def test_round_trip_through_query() -> None:
    params = StreamParams(
        sample_rate=22050,
        channels=2,
        multichannel=True,
        endpointing_ms=None,
        utterance_end_ms=1500,
        vad_events=True,
        language="en-US",
        model="x",
    )
    assert parse_params(params.to_query()) == params


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "encoding",
                "sample_rate",
                "channels",
                "multichannel",
                "interim_results",
                "endpointing",
                "utterance_end_ms",
                "vad_events",
                "language",
                "model",
                "diarize",
                "diarize_model",
                "max_speakers",
                "other",
            ]
        ),
        st.text(max_size=12),
    )
)
def test_any_query_is_accepted_or_rejected_with_param_error(query: dict[str, str]) -> None:
    try:
        params = parse_params(query)
    except ParamError as exc:
        assert exc.param in query
    else:
        assert 8000 <= params.sample_rate <= 48000 and params.channels in (1, 2)


def test_defaults_send_exactly_the_deepgram_query_a_server_expects() -> None:
    # A zero stream offset is not sent: a first connection looks like any Deepgram client's.
    assert StreamParams().to_query() == {
        "encoding": "linear16",
        "sample_rate": "16000",
        "channels": "1",
        "interim_results": "true",
        "endpointing": "300",
        "language": "en",
    }


def test_every_setting_is_sent_under_its_deepgram_name_in_lowercase_words() -> None:
    params = StreamParams(
        channels=2,
        multichannel=True,
        interim_results=False,
        endpointing_ms=None,
        utterance_end_ms=1200,
        vad_events=True,
        model="tiny.en",
        stream_offset_s=0.5,
    )
    assert params.to_query() == {
        "encoding": "linear16",
        "sample_rate": "16000",
        "channels": "2",
        "interim_results": "false",
        "endpointing": "false",
        "language": "en",
        "multichannel": "true",
        "utterance_end_ms": "1200",
        "vad_events": "true",
        "model": "tiny.en",
        "stream_offset": "0.5000",
    }


def test_a_resumed_stream_offset_round_trips_through_the_query() -> None:
    params = StreamParams(stream_offset_s=12.25)
    assert parse_params(params.to_query()).stream_offset_s == 12.25


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"sample_rate": ["16000", "16000"]}, {"sample_rate": 16000}),  # repeated, same value
        ({"channels": "1"}, {"channels": 1}),
        ({"endpointing": "True"}, {"endpointing_ms": 300}),  # Deepgram's on: the default
        ({"endpointing": "10"}, {"endpointing_ms": 10}),
        ({"endpointing": "10000"}, {"endpointing_ms": 10000}),
        ({"utterance_end_ms": "10000"}, {"utterance_end_ms": 10000}),
        ({"language": "abcdefghijklmnop"}, {"language": "abcdefghijklmnop"}),  # 16: the limit
        ({"stream_offset": "0"}, {"stream_offset_s": 0.0}),
        ({"stream_offset": " 42.5 "}, {"stream_offset_s": 42.5}),
        ({"stream_offset": "9999999.5"}, {"stream_offset_s": 9999999.5}),
    ],
)
def test_values_at_the_edges_are_accepted(
    query: dict[str, str | list[str]], expected: dict[str, object]
) -> None:
    params = parse_params(query)
    assert {name: getattr(params, name) for name in expected} == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"encoding": "opus"},
            "invalid encoding='opus': only linear16 (16-bit little-endian PCM) is supported",
        ),
        ({"sample_rate": "16k"}, "invalid sample_rate='16k': must be a whole number"),
        ({"sample_rate": "7999"}, "invalid sample_rate='7999': must be between 8000 and 48000"),
        (
            {"sample_rate": ["16000", "8000"]},
            "invalid sample_rate='16000,8000': given more than once with different values",
        ),
        ({"channels": "two"}, "invalid channels='two': must be 1 or 2"),
        ({"channels": "3"}, "invalid channels='3': must be 1 or 2"),
        ({"channels": "2"}, "invalid channels='2': 2 channels need multichannel=true"),
        ({"vad_events": "yes"}, "invalid vad_events='yes': must be true or false"),
        ({"endpointing": "9"}, "invalid endpointing='9': must be between 10 and 10000"),
        ({"endpointing": "10001"}, "invalid endpointing='10001': must be between 10 and 10000"),
        (
            {"utterance_end_ms": "10001"},
            "invalid utterance_end_ms='10001': must be between 1000 and 10000",
        ),
        (
            {"language": "abcdefghijklmnopq"},
            "invalid language='abcdefghijklmnopq': must be a language code such as en or en-US",
        ),
        ({"language": "-"}, "invalid language='-': must be a language code such as en or en-US"),
        (
            {"stream_offset": "soon"},
            "invalid stream_offset='soon': must be seconds (a number >= 0)",
        ),
        ({"stream_offset": "-1"}, "invalid stream_offset='-1': must be seconds (a number >= 0)"),
        ({"stream_offset": "1e7"}, "invalid stream_offset='1e7': must be seconds (a number >= 0)"),
        (
            {"stream_offset": "10000000.5"},
            "invalid stream_offset='10000000.5': must be seconds (a number >= 0)",
        ),
    ],
)
def test_a_refusal_says_which_value_is_wrong_and_why(
    query: dict[str, str | list[str]], message: str
) -> None:
    # The reason is the body of the HTTP 400 a client sees.
    with pytest.raises(ParamError) as info:
        parse_params(query)
    assert str(info.value) == message
    assert info.value.param == next(iter(query))


# -- vocabulary: keyterm (repeatable) and Deepgram's older keywords ------------------------


def test_keyterms_keep_their_order_drop_duplicates_and_round_trip_through_a_url() -> None:
    params = parse_params({"keyterm": ["  Acme   Corp ", "Zed", "Acme Corp", "Łódź"]})
    assert params.keyterms == ("Acme Corp", "Zed", "Łódź")
    assert params.to_query()["keyterm"] == ["Acme Corp", "Zed", "Łódź"]  # repeated, in order
    assert parse_params(params.to_query()) == params
    url = stream_url("ws://h:1/ws/transcribe?x=1", params)
    query = parse_qs(urlsplit(url).query)
    assert query["keyterm"] == ["Acme Corp", "Zed", "Łódź"] and query["x"] == ["1"]
    assert parse_params(query) == params
    assert "keyterm" not in StreamParams().to_query()  # none: not sent at all


def test_keywords_lose_their_boost_and_join_the_keyterms() -> None:
    params = parse_params(
        {"keyterm": "Zed", "keywords": ["kubectl:2", "Zed:-1.5", "Acme:0.5", "10:30:x", "plain"]}
    )
    assert params.keyterms == ("Zed", "kubectl", "Acme", "10:30:x", "plain")


def test_a_hundred_terms_filling_the_byte_budget_are_accepted() -> None:
    # 100 terms of 20 bytes: 2000 bytes in all, the limit (each "é" is 2 bytes).
    terms = [f"{i:02d}" + "é" * 9 for i in range(100)]
    assert parse_params({"keyterm": terms}).keyterms == tuple(terms)
    # A repeat is dropped before the limits count: it neither adds a term nor bytes.
    assert parse_params({"keyterm": terms, "keywords": terms[:5]}).keyterms == tuple(terms)
    assert parse_params({"keyterm": "x" * 100}).keyterms == ("x" * 100,)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"keyterm": ""}, "invalid keyterm='': must be 1 to 100 characters"),
        ({"keyterm": "   "}, "invalid keyterm='   ': must be 1 to 100 characters"),
        ({"keyterm": "x" * 101}, f"invalid keyterm='{'x' * 101}': must be 1 to 100 characters"),
        ({"keyterm": "a\x07b"}, "invalid keyterm='a\\x07b': must not contain control characters"),
        ({"keyterm": "a\tb"}, "invalid keyterm='a\\tb': must not contain control characters"),
        ({"keyterm": "a\x85b"}, "invalid keyterm='a\\x85b': must not contain control characters"),
        ({"keywords": "kubectl:2\n"}, None),  # the line break is trimmed: accepted
        ({"keywords": ":2"}, "invalid keywords='': must be 1 to 100 characters"),
        (
            {"keyterm": [f"t{i}" for i in range(101)]},
            "invalid keyterm='t100': at most 100 different terms are accepted",
        ),
        (
            {"keyterm": [f"{i:02d}" + "é" * 9 for i in range(99)] + ["x" * 21]},
            f"invalid keyterm='{'x' * 21}': all terms together must fit in 2000 bytes of UTF-8",
        ),
    ],
)
def test_an_unusable_term_is_refused_naming_itself(
    query: dict[str, str | list[str]], message: str | None
) -> None:
    if message is None:
        assert parse_params(query).keyterms == ("kubectl",)
        return
    with pytest.raises(ParamError) as info:
        parse_params(query)
    assert str(info.value) == message
    assert info.value.param == next(iter(query))


def test_a_server_refuses_a_bad_keyterm_with_a_400_naming_it() -> None:
    async def scenario() -> InvalidStatus:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0)) as server:
            with pytest.raises(InvalidStatus) as info:
                async with connect(f"{server.url}?keyterm=ok&keyterm=bad%07bell"):
                    pass
            return info.value

    error = run(scenario())
    assert error.response.status_code == 400
    body = json.loads(error.response.body)
    assert body["err_code"] == "INVALID_PARAMETER" and body["parameter"] == "keyterm"
    assert body["err_msg"] == "invalid keyterm='bad\\x07bell': must not contain control characters"


def test_the_largest_vocabulary_fits_in_a_handshake_and_reaches_the_engine() -> None:
    # The worst case for the URL: every byte percent-encoded ("&" -> %26), 2000 bytes of terms.
    terms = tuple(f"{i:03d}" + "&" * 17 for i in range(100))
    engine = ScriptedEngine()

    async def scenario() -> None:
        async with (
            TranscriptionServer(engine, ServerConfig(port=0)) as server,
            StreamClient(server.url, StreamParams(keyterms=terms)) as client,
        ):
            await client.send_control(Control.CLOSE_STREAM)
            async for _ in client.messages():
                pass

    run(scenario())
    assert [session.params.keyterms for session in engine.sessions] == [terms]


# -- diarize (issue 13): Deepgram's name, and its newer `diarize_model` ---------------------


@pytest.mark.parametrize(
    ("query", "diarize"),
    [
        ({}, False),
        ({"diarize": "true"}, True),
        ({"diarize": "TRUE"}, True),
        ({"diarize": "false"}, False),
        # Deepgram's SDKs now prefer `diarize_model`, which turns diarization on by itself.
        ({"diarize_model": "latest"}, True),
        ({"diarize_model": "v1", "diarize": "false"}, True),
    ],
)
def test_diarize_is_read_as_deepgram_names_it(query: dict[str, str], diarize: bool) -> None:
    assert parse_params(query).diarize is diarize


@pytest.mark.parametrize(
    ("query", "param", "why"),
    [
        ({"diarize": "yes"}, "diarize", "must be true or false"),
        # Deepgram refuses its batch-only v2 on a stream too.
        ({"diarize_model": "v2"}, "diarize_model", "must be v1 or latest"),
    ],
)
def test_a_bad_diarize_value_is_refused_naming_itself(
    query: dict[str, str], param: str, why: str
) -> None:
    with pytest.raises(ParamError) as info:
        parse_params(query)
    assert info.value.param == param and str(info.value).endswith(why)


def test_diarize_is_sent_only_when_asked_for_and_round_trips() -> None:
    assert "diarize" not in StreamParams().to_query()
    params = StreamParams(diarize=True)
    assert params.to_query()["diarize"] == "true"
    assert parse_params(params.to_query()) == params


# -- max_speakers (issue 13): ours, the expected number of voices, a cap on the labels ------


@pytest.mark.parametrize(
    ("query", "max_speakers"),
    [
        ({"diarize": "true"}, None),
        ({"diarize": "true", "max_speakers": "1"}, 1),
        ({"diarize": "true", "max_speakers": " 10 "}, 10),
        ({"diarize_model": "latest", "max_speakers": "3"}, 3),  # diarize_model turns it on too
        ({"diarize": "true", "max_speakers": ["2", "2"]}, 2),
    ],
)
def test_max_speakers_is_read_with_diarize(
    query: dict[str, str | list[str]], max_speakers: int | None
) -> None:
    assert parse_params(query).max_speakers == max_speakers


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"max_speakers": "0", "diarize": "true"},
            "invalid max_speakers='0': must be between 1 and 10",
        ),
        (
            {"max_speakers": "11", "diarize": "true"},
            "invalid max_speakers='11': must be between 1 and 10",
        ),
        (
            {"max_speakers": "two", "diarize": "true"},
            "invalid max_speakers='two': must be a whole number",
        ),
        (
            {"max_speakers": "2.5", "diarize": "true"},
            "invalid max_speakers='2.5': must be a whole number",
        ),
        # It limits the speaker labels: without them it would do nothing, so the client that
        # forgot diarize hears about it.
        (
            {"max_speakers": "2"},
            "invalid max_speakers='2': needs diarize=true (it caps the speaker labels)",
        ),
        (
            {"max_speakers": "2", "diarize": "false"},
            "invalid max_speakers='2': needs diarize=true (it caps the speaker labels)",
        ),
    ],
)
def test_a_bad_max_speakers_is_refused_naming_itself(
    query: dict[str, str | list[str]], message: str
) -> None:
    with pytest.raises(ParamError) as info:
        parse_params(query)
    assert info.value.param == "max_speakers" and str(info.value) == message


def test_max_speakers_is_sent_only_when_set_and_round_trips() -> None:
    assert "max_speakers" not in StreamParams(diarize=True).to_query()
    params = StreamParams(diarize=True, max_speakers=3)
    assert params.to_query()["max_speakers"] == "3"
    assert parse_params(params.to_query()) == params


def test_a_server_refuses_max_speakers_without_diarize_with_a_400_naming_it() -> None:
    async def scenario() -> InvalidStatus:
        async with TranscriptionServer(ScriptedEngine(), ServerConfig(port=0)) as server:
            with pytest.raises(InvalidStatus) as info:
                async with connect(f"{server.url}?max_speakers=2"):
                    pass
            return info.value

    error = run(scenario())
    assert error.response.status_code == 400
    body = json.loads(error.response.body)
    assert body["err_code"] == "INVALID_PARAMETER" and body["parameter"] == "max_speakers"
    assert body["err_msg"] == (
        "invalid max_speakers='2': needs diarize=true (it caps the speaker labels)"
    )
