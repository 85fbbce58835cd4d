"""Speaker labels through the Deepgram engine (issue 13 item 3): `diarize` goes upstream and
the provider's labels reach the client on every word. The fake provider labels two talkers."""

from __future__ import annotations

import pytest

from app.client.streamer import StreamClient
from app.protocol.messages import Control, Results, Word
from app.protocol.params import StreamParams
from app.server.engines.deepgram import DeepgramConfig, DeepgramEngine, deepgram_query
from app.server.server import ServerConfig, TranscriptionServer
from tests.conftest import run
from tests.fake_deepgram import FakeDeepgram
from tests.fakes import ScriptedEngine

KEY = "dg-test-key"
SECOND = b"\x00\x00" * 16000


async def final_words(params: StreamParams) -> tuple[list[Word], FakeDeepgram]:
    async with FakeDeepgram(ScriptedEngine(), KEY) as fake:
        engine = DeepgramEngine(DeepgramConfig(api_key=KEY, url=fake.url))
        async with (
            TranscriptionServer(engine, ServerConfig(port=0)) as server,
            StreamClient(server.url, params) as client,
        ):
            for _ in range(3):
                await client.send_audio(SECOND)
            await client.send_control(Control.CLOSE_STREAM)
            messages = [m async for m in client.messages()]
    finals = [m for m in messages if isinstance(m, Results) and m.is_final]
    return [w for m in finals for w in m.words], fake


@pytest.mark.parametrize("model", ["nova-3", "nova-2"])
def test_diarize_is_in_the_query_sent_upstream_only_when_asked_for(model: str) -> None:
    assert deepgram_query(StreamParams(diarize=True), model)["diarize"] == "true"
    assert "diarize" not in deepgram_query(StreamParams(), model)


def test_the_providers_speaker_labels_reach_the_client_on_every_word() -> None:
    words, fake = run(final_words(StreamParams(diarize=True)))
    assert [(w.word, w.speaker) for w in words] == [("w0", 0), ("w1", 1), ("w2", 0)]
    (connection,) = fake.connections
    assert connection.query["diarize"] == ["true"]


def test_without_diarize_no_word_has_a_speaker_and_none_is_asked_for() -> None:
    words, fake = run(final_words(StreamParams()))
    assert [(w.word, w.speaker) for w in words] == [("w0", None), ("w1", None), ("w2", None)]
    (connection,) = fake.connections
    assert "diarize" not in connection.query


def test_max_speakers_stays_with_us_and_diarize_still_goes_upstream() -> None:
    """Deepgram has no speaker count: our `max_speakers` is not sent to it (its labels come
    as Deepgram finds them); the local engine honours it after a failover."""
    words, fake = run(final_words(StreamParams(diarize=True, max_speakers=2)))
    assert [(w.word, w.speaker) for w in words] == [("w0", 0), ("w1", 1), ("w2", 0)]
    (connection,) = fake.connections
    assert connection.query["diarize"] == ["true"] and "max_speakers" not in connection.query
