"""Start the transcription server inside this process (loopback, port 0, random token)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

from app.models.store import ModelStore
from app.server.engines.whisper import WhisperEngine
from app.server.server import ServerConfig, TranscriptionServer


def load_engine(engine: str, model: str, *, threads: int = 1) -> WhisperEngine:
    if engine != "whisper":
        from app.errors import ConfigError

        raise ConfigError(f"engine {engine!r} is not available yet; use --engine whisper")
    loaded = WhisperEngine.load(model, store=ModelStore(), threads=threads)
    loaded.warm_up()
    return loaded


@contextlib.asynccontextmanager
async def embedded_server(
    engine: WhisperEngine, *, token: str | None = None
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
