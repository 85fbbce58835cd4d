"""Start the transcription server inside this process (loopback, port 0, random token)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator

from app.credentials import deepgram_api_key
from app.errors import ConfigError
from app.models.store import ModelStore
from app.server.engines import DEFAULT_THREADS
from app.server.engines.auto import AUTO, load_auto
from app.server.engines.base import Engine
from app.server.engines.deepgram import DEEPGRAM_URL, DeepgramConfig, DeepgramEngine
from app.server.engines.failover import FailoverEngine
from app.server.engines.whisper import WhisperEngine
from app.server.server import ServerConfig, TranscriptionServer

ENGINES = ("whisper", "deepgram")


def load_engine(
    engine: str,
    model: str,
    *,
    threads: int = DEFAULT_THREADS,
    deepgram_url: str | None = None,
    deepgram_models: tuple[str, ...] = (),
    failover: bool = True,
) -> Engine:
    """The local whisper engine, or Deepgram with the local engine as its failover.

    `model` "auto" lets the CPU probe choose base or tiny.en (the engine's `selection_note`
    says which and why). `deepgram_models`: the Deepgram models a client may name with
    `model=` besides the default (the owner's key pays for them)."""
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if engine == "deepgram":
        key = deepgram_api_key()
        if not key:
            raise ConfigError(
                "the deepgram engine needs an API key: set DEEPGRAM_API_KEY or save it in "
                "Settings (it is kept in the OS keyring)"
            )
        url = deepgram_url or os.environ.get("CAPTIONIST_DEEPGRAM_URL") or DEEPGRAM_URL
        provider = DeepgramEngine(
            DeepgramConfig(api_key=key, url=url, client_models=deepgram_models)
        )
        if not failover:
            return provider
        return FailoverEngine(provider, load_engine("whisper", model, threads=threads))
    if model == AUTO:
        return load_auto(store=ModelStore(), threads=threads)
    loaded = WhisperEngine.load(model, store=ModelStore(), threads=threads)
    loaded.warm_up()
    return loaded


@contextlib.asynccontextmanager
async def embedded_server(
    engine: Engine, *, token: str | None = None
) -> AsyncIterator[tuple[str, str]]:
    """Yield (url, token) of a server on 127.0.0.1 with a random port."""
    token = token or secrets.token_urlsafe(24)
    # Only this process talks to it: no rate or session-length limits on our own audio.
    config = ServerConfig(
        host="127.0.0.1", port=0, token=token, audio_rate=None, max_session_s=None
    )
    server = TranscriptionServer(engine, config)
    async with server:
        yield server.url, token
