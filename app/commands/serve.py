"""`captionist serve`: the transcription server for a team box or another app."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from app.commands.embedded import load_engine
from app.errors import ConfigError
from app.server.server import ServerConfig, TranscriptionServer

log = logging.getLogger(__name__)


async def run_serve(config: ServerConfig, *, engine: str, model: str, threads: int) -> int:
    loaded = load_engine(engine, model, threads=threads)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = TranscriptionServer(loaded, config)
    try:
        try:
            await server.start()
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}"
            ) from exc
        async with server:
            print(
                f"captionist: serving {loaded.name} {loaded.model_name} on {server.url}"
                f"{' (token required)' if config.token else ''}",
                file=sys.stderr,
                flush=True,
            )
            await stop.wait()
            print("captionist: shutting down", file=sys.stderr, flush=True)
    finally:
        await loaded.aclose()
    return 0
