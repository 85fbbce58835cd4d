import json
import struct

import numpy as np
import pytest

from app.protocol.messages import Control, Warning
from app.protocol.params import StreamParams
from app.protocol.pcm import chunk_bytes, decode_frame, duration_of, encode_pcm
from app.protocol.session import (
    AudioReceived,
    Close,
    ControlReceived,
    ServerSession,
    UnknownMessage,
)


def test_pcm_round_trip_and_channel_split() -> None:
    stereo = np.stack([np.linspace(-1, 1, 160), np.linspace(1, -1, 160)], axis=1)
    left, right = decode_frame(encode_pcm(stereo), 2)
    assert np.allclose(left, stereo[:, 0], atol=1 / 32768)
    assert np.allclose(right, stereo[:, 1], atol=1 / 32768)
    assert chunk_bytes(16000, 1, 0.1) == 3200


def test_audio_is_counted_in_seconds_received() -> None:
    session = ServerSession(StreamParams(sample_rate=8000))
    session.receive_message(b"\x00\x00" * 4000)
    (event,) = session.events_received()
    assert isinstance(event, AudioReceived) and len(event.channels[0]) == 4000
    assert session.audio_seconds == pytest.approx(0.5)


@pytest.mark.parametrize(("frame", "channels"), [(b"\x00" * 3, 1), (b"\x00" * 6, 2)])
def test_partial_sample_frame_fails_with_1007(frame: bytes, channels: int) -> None:
    session = ServerSession(StreamParams(channels=channels, multichannel=channels == 2))
    session.receive_message(frame)
    error, close = session.data_to_send()
    assert json.loads(error)["type"] == "Error"  # type: ignore[arg-type]
    assert isinstance(close, Close) and close.code == 1007
    assert session.closing and session.events_received() == []


def test_malformed_json_fails_with_1007_and_later_frames_are_ignored() -> None:
    session = ServerSession(StreamParams())
    session.receive_message("{not json")
    session.receive_message(b"\x00\x00")
    outgoing = session.data_to_send()
    assert isinstance(outgoing[-1], Close) and outgoing[-1].code == 1007
    assert session.events_received() == []


def test_empty_frame_and_close_stream_end_the_stream_once() -> None:
    session = ServerSession(StreamParams())
    session.receive_message(b"")
    session.receive_message('{"type":"CloseStream"}')
    session.receive_message(b"\x00\x00")
    assert session.events_received() == [ControlReceived(Control.CLOSE_STREAM)]
    assert session.bytes_received == 0


def test_pcm_decodes_to_float32_in_minus_one_to_one() -> None:
    (samples,) = decode_frame(struct.pack("<3h", -32768, 0, 16384), 1)
    assert samples.dtype == np.float32
    assert samples.tolist() == [-1.0, 0.0, 0.5]


def test_float_audio_beyond_full_scale_is_clipped_not_wrapped() -> None:
    encoded = encode_pcm(np.array([-2.0, -1.0, 1.0, 2.0], dtype=np.float32))
    assert struct.unpack("<4h", encoded) == (-32768, -32768, 32767, 32767)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64])
def test_integer_audio_is_sent_as_16_bit_samples(dtype: type[np.integer]) -> None:
    encoded = encode_pcm(np.array([1, -2, 300], dtype=dtype))
    assert encoded == struct.pack("<3h", 1, -2, 300)


def test_stereo_durations_and_chunks_count_frames_not_samples() -> None:
    assert duration_of(64000, 16000, 2) == 1.0
    assert chunk_bytes(16000, 2, 0.1) == 6400
    assert chunk_bytes(16000, 1, 0.00001) == 2  # never less than one frame


def test_audio_seconds_add_up_over_frames() -> None:
    session = ServerSession(StreamParams(sample_rate=8000))
    session.receive_message(b"\x00\x00" * 2000)
    session.receive_message(b"\x00\x00" * 2000)
    assert session.bytes_received == 8000
    assert session.audio_seconds == pytest.approx(0.5)


def test_invalid_data_is_reported_as_invalid_data_before_the_1007_close() -> None:
    session = ServerSession(StreamParams())
    session.receive_message(b"\x00")
    error, close = session.data_to_send()
    why = "audio frame of 1 bytes is not a whole number of 1-channel 16-bit samples"
    assert json.loads(error) == {  # type: ignore[arg-type]
        "type": "Error",
        "code": "INVALID_DATA",
        "message": why,
        "variant": "INVALID_DATA",  # Deepgram's names for the same two
        "description": why,
    }
    assert close == Close(
        1007, "audio frame of 1 bytes is not a whole number of 1-channel 16-bit samples"
    )


def test_close_stream_as_text_ends_the_audio_and_counts_once() -> None:
    session = ServerSession(StreamParams())
    session.receive_message('{"type":"CloseStream"}')
    session.receive_message(b"\x00\x00")
    session.receive_message('{"type":"CloseStream"}')
    assert session.stream_closed
    assert session.events_received() == [ControlReceived(Control.CLOSE_STREAM)]
    assert session.bytes_received == 0


def test_other_text_frames_become_events_as_they_came() -> None:
    session = ServerSession(StreamParams())
    session.receive_message('{"type":"KeepAlive"}')
    session.receive_message('{"type":"Configure","x":1}')
    assert session.events_received() == [
        ControlReceived(Control.KEEP_ALIVE),
        UnknownMessage('{"type":"Configure","x":1}'),
    ]
    assert session.events_received() == []  # handed over once


def test_a_plain_close_has_no_reason_and_happens_once() -> None:
    session = ServerSession(StreamParams())
    session.close()
    session.close(1011, "again")
    session.send(Warning("W", "too late"))
    assert session.data_to_send() == [Close(1000, "")]


def test_fail_sends_the_error_then_closes_with_the_reason_cut_to_120_characters() -> None:
    session = ServerSession(StreamParams())
    reason = "x" * 200
    session.fail(1011, "ENGINE_FAILED", reason)
    session.fail(1007, "LATER", "ignored")
    error, close = session.data_to_send()
    assert json.loads(error) == {  # type: ignore[arg-type]
        "type": "Error",
        "code": "ENGINE_FAILED",
        "message": reason,
        "variant": "ENGINE_FAILED",
        "description": reason,
    }
    assert close == Close(1011, "x" * 120)
