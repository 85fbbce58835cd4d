"""Tokens never reach a log, the client's DEBUG logging included.

At DEBUG websockets logs every handshake header the client sends, `Authorization: Token <t>`
among them. The records are redacted where they are made, so no handler set up anywhere can
write the token.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.client.lifecycle import LinkConfig, ReconnectingStream
from app.logs import SECRETS, configure_file_logging
from app.protocol.messages import Results
from app.protocol.params import StreamParams
from app.server.server import ServerConfig, TranscriptionServer
from tests.conftest import run
from tests.fakes import ClockEngine

TOKEN = "tok-Cl1ent-s1de-5ecret"
MARKER = "<redacted>"
FRAME = b"\x10\x00" * 1600  # 100 ms at 16 kHz


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """All log output at DEBUG, through a plain handler with no filter of its own."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_a_client_token_never_reaches_the_debug_log(debug_log: io.StringIO) -> None:
    async def session() -> list[str]:
        server = TranscriptionServer(ClockEngine(), ServerConfig(port=0, token=TOKEN))
        await server.start()
        stream = ReconnectingStream(
            server.url, StreamParams(), token=TOKEN, config=LinkConfig(give_up_after_s=5)
        )
        words: list[str] = []

        async def collect() -> None:
            async for message in stream.messages():
                if isinstance(message, Results) and message.is_final:
                    words.extend(w.word for w in message.words)

        collector = asyncio.create_task(collect())
        for _ in range(12):
            stream.push(FRAME)
        stream.finish()
        await collector
        await server.close()
        return words

    assert run(session(), timeout=30) == ["s0"]  # the token was right: it did connect
    logged = debug_log.getvalue()
    assert "> GET /ws/transcribe" in logged, "websockets did not log the handshake at DEBUG"
    assert TOKEN not in logged
    assert f"Authorization: Token {MARKER}" in logged


def test_a_hidden_secret_is_redacted_anywhere_in_the_log_file(tmp_path: Path) -> None:
    """The app's log file carries the same filter: a secret in any record, an exception's
    text included, is written redacted."""
    root = logging.getLogger()
    level, levels = root.level, {h: h.level for h in root.handlers}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CAPTIONIST_LOG_DIR", str(tmp_path))
        path = configure_file_logging(logging.DEBUG)
    assert path is not None
    handler = next(h for h in root.handlers if h not in levels)
    try:
        SECRETS.hide("api-Key-0f-the-test")
        log = logging.getLogger("tests.client.anything")
        log.warning("retrying with %s", "api-Key-0f-the-test")
        try:
            raise ValueError("refused: Authorization: Bearer api-Key-0f-the-test")
        except ValueError:
            log.exception("request failed")
        handler.flush()
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(level)
        for other, other_level in levels.items():
            other.setLevel(other_level)
    written = path.read_text()
    assert "api-Key-0f-the-test" not in written
    assert f"retrying with {MARKER}" in written
    assert f"ValueError: refused: Authorization: Bearer {MARKER}" in written


def test_a_secret_too_short_to_tell_from_words_does_not_blank_them_out() -> None:
    """A client once connected with the token "wrong": every later "wrong" in any record was
    redacted ("missing or <redacted> token"). Short values are hidden in headers only."""
    SECRETS.hide("wrong")
    assert SECRETS.scrub("missing or wrong token") == "missing or wrong token"
    assert SECRETS.scrub("> Authorization: Token wrong") == f"> Authorization: Token {MARKER}"
