"""Which Deepgram models a client may ask for (`model=`): the server's owner pays for them.

Issue 12: a client's `model=` went upstream on the owner's API key whatever it named.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from app.cli import build_parser
from app.commands.serve import server_config
from app.errors import ConfigError
from app.protocol.messages import Control, encode_control
from app.server.engines.base import Engine
from app.server.engines.deepgram import DeepgramConfig, DeepgramEngine
from app.server.engines.failover import FailoverEngine
from app.server.server import ServerConfig, TranscriptionServer
from tests.conftest import ROOT, run
from tests.fake_deepgram import FakeDeepgram
from tests.fakes import ScriptedEngine

KEY = "dg-test-key"
CAPTIONIST = [sys.executable, "-m", "app"]


async def refusal(url: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url):
            pass
    response = info.value.response
    return response.status_code, json.loads(bytes(response.body or b""))


async def one_session(url: str) -> None:
    """A short session to its end: the provider connection is made and closed."""
    async with connect(url) as ws:
        await ws.send(b"\x00\x00" * 1600)
        await ws.send(encode_control(Control.CLOSE_STREAM))
        async for _ in ws:
            pass


def upstream_models(fake: FakeDeepgram) -> list[str]:
    return [model for c in fake.connections for model in c.query.get("model", [])]


@pytest.mark.parametrize("failover", [False, True], ids=["deepgram", "deepgram+local"])
def test_by_default_a_client_gets_only_the_configured_model(failover: bool) -> None:
    async def scenario() -> tuple[tuple[int, dict[str, Any]], list[str]]:
        async with FakeDeepgram(ScriptedEngine(), KEY) as fake:
            provider = DeepgramEngine(DeepgramConfig(api_key=KEY, url=fake.url))
            engine: Engine = FailoverEngine(provider, ScriptedEngine()) if failover else provider
            async with TranscriptionServer(engine, ServerConfig(port=0)) as server:
                refused = await refusal(f"{server.url}?model=nova-3")
                await one_session(f"{server.url}?model=nova-2")  # the configured one: fine
                await one_session(server.url)
            return refused, upstream_models(fake)

    (status, body), upstream = run(scenario())
    assert status == 400
    assert body["err_code"] == "INVALID_PARAMETER" and body["parameter"] == "model"
    assert body["err_msg"] == (
        "invalid model='nova-3': not offered by this server (it offers nova-2)"
    )
    assert upstream == ["nova-2", "nova-2"]  # never forwarded


async def serving_url(process: asyncio.subprocess.Process) -> str:
    """The URL `serve` prints once it listens (so port 0 works), or fail with what it said."""
    assert process.stderr is not None
    said = []
    while line := (await process.stderr.readline()).decode():
        said.append(line)
        if found := re.search(r"captionist: serving .* on (ws://\S+)", line):
            return found.group(1)
    raise AssertionError(f"serve exited without listening: {''.join(said)}")


@pytest.mark.e2e
def test_serve_offers_the_models_its_owner_allows() -> None:
    """`captionist serve --engine deepgram --deepgram-models ...`: the owner's allowlist."""

    async def scenario() -> tuple[tuple[int, dict[str, Any]], list[str]]:
        async with FakeDeepgram(ScriptedEngine(), KEY) as fake:
            process = await asyncio.create_subprocess_exec(
                *CAPTIONIST, "serve", "--port", "0", "--engine", "deepgram", "--no-failover",
                "--deepgram-url", fake.url, "--deepgram-models", "nova-3,nova-2-meeting",
                cwd=ROOT,
                env={**os.environ, "DEEPGRAM_API_KEY": KEY},
                stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            try:
                url = await serving_url(process)
                for model in ("nova-3", "nova-2-meeting", "nova-2"):
                    await one_session(f"{url}?model={model}")
                refused = await refusal(f"{url}?model=enhanced")
            finally:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                await process.wait()
            return refused, upstream_models(fake)

    (status, body), upstream = run(scenario(), timeout=120)
    assert upstream == ["nova-3", "nova-2-meeting", "nova-2"]
    assert status == 400 and body["parameter"] == "model"
    assert body["err_msg"] == (
        "invalid model='enhanced': not offered by this server (it offers nova-2, nova-3, "
        "nova-2-meeting)"
    )


def test_deepgram_models_without_the_deepgram_engine_is_refused() -> None:
    args = build_parser().parse_args(["serve", "--deepgram-models", "nova-3"])
    with pytest.raises(ConfigError, match="--deepgram-models goes with --engine deepgram"):
        server_config(args)


@pytest.mark.parametrize("value", ["", "nova-3,", "nova 3", "nova-3&x=1"])
def test_a_malformed_deepgram_models_list_is_refused(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--engine", "deepgram", "--deepgram-models", value])
    assert "--deepgram-models: must be Deepgram model names" in capsys.readouterr().err
