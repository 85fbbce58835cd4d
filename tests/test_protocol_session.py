import json

import numpy as np
import pytest

from app.protocol.messages import Control
from app.protocol.params import StreamParams
from app.protocol.pcm import chunk_bytes, decode_frame, encode_pcm
from app.protocol.session import AudioReceived, Close, ControlReceived, ServerSession


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
