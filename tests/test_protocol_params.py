import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import ParamError
from app.protocol.params import StreamParams, parse_params


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
