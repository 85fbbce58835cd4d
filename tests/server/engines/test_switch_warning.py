"""The Warning an engine switch sends names the live engine in a field of its own (issue 21).

`code` and `message` stay as they were (a contract: the text is for people); `engine` is added
only to switch warnings, and clients read the live engine from it, never from the text.
"""

from __future__ import annotations

import json

import pytest

from app.protocol.messages import (
    ENGINE_SWITCHES,
    MODEL_STEP_DOWN,
    PROVIDER_FAILOVER,
    Warning,
    encode,
    live_engine_of,
    parse_server_message,
    provider_switch,
)


@pytest.mark.parametrize("code", ENGINE_SWITCHES)
def test_a_switch_warning_carries_the_live_engine_in_its_own_field(code: str) -> None:
    warning = provider_switch(code, "whisper tiny.en (local)", "PROVIDER_STALLED: no reply")
    wire = json.loads(encode(warning))
    assert wire == {
        "type": "Warning",
        "code": code,
        "message": "switched to whisper tiny.en (local): PROVIDER_STALLED: no reply",
        "engine": "whisper tiny.en (local)",
    }
    assert parse_server_message(encode(warning)) == warning
    assert warning.engine == live_engine_of(warning) == "whisper tiny.en (local)"


def test_other_warnings_keep_their_wire_shape_and_name_no_engine() -> None:
    warning = Warning("AUTOSAVE_FAILED", "the disk is full")
    assert (
        encode(warning)
        == '{"type":"Warning","code":"AUTOSAVE_FAILED","message":"the disk is full"}'
    )
    assert parse_server_message(encode(warning)) == warning
    assert live_engine_of(warning) is None


def test_the_live_engine_is_the_field_whatever_the_text_says() -> None:
    warning = Warning(
        MODEL_STEP_DOWN, "switched to deepgram nova-2: base fell behind", "whisper tiny.en"
    )
    assert live_engine_of(warning) == "whisper tiny.en"
    parsed = parse_server_message(encode(warning))
    assert isinstance(parsed, Warning) and live_engine_of(parsed) == "whisper tiny.en"


def test_a_switch_text_without_the_field_names_no_engine() -> None:
    """An older server's frame: the text is not read for a name."""
    parsed = parse_server_message(
        '{"type": "Warning", "code": "PROVIDER_FAILOVER", "message": "switched to whisper: 1011"}'
    )
    assert parsed == Warning(PROVIDER_FAILOVER, "switched to whisper: 1011")
    assert isinstance(parsed, Warning) and live_engine_of(parsed) is None


@pytest.mark.parametrize("engine", ['""', "null", "3", '["whisper"]', '{"name": "whisper"}'])
def test_an_engine_field_that_is_not_a_name_reads_as_none(engine: str) -> None:
    parsed = parse_server_message(
        f'{{"type": "Warning", "code": "PROVIDER_FAILOVER", "message": "m", "engine": {engine}}}'
    )
    assert parsed == Warning(PROVIDER_FAILOVER, "m")
