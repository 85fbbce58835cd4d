"""`captionist serve`: the transcription server for a team box or another app."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import ssl
import sys

from app.commands.embedded import load_engine
from app.errors import ConfigError
from app.server.guard import DEFAULT_ORIGINS, AudioRateLimit, is_loopback
from app.server.server import ServerConfig, TranscriptionServer

log = logging.getLogger(__name__)


def server_config(args: argparse.Namespace) -> ServerConfig:
    """The server's settings from `serve`'s options, refusing unsafe combinations."""
    if not is_loopback(args.host) and not args.token and not args.insecure:
        raise ConfigError(
            f"--host {args.host} makes the server reachable from the network, so it needs "
            "--token (or CAPTIONIST_TOKEN); pass --insecure to run it open on purpose"
        )
    if (args.cert is None) != (args.key is None):
        raise ConfigError("--cert and --key go together (both PEM files)")
    context = None
    if args.cert is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(args.cert, args.key)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot load the TLS certificate or key: {exc}") from exc
    if args.deepgram_models and args.engine != "deepgram":
        raise ConfigError("--deepgram-models goes with --engine deepgram")
    if args.max_sessions_per_client < 1:
        raise ConfigError("--max-sessions-per-client must be at least 1")
    return ServerConfig(
        host=args.host,
        port=args.port,
        token=args.token,
        idle_timeout_s=args.idle_timeout,
        allowed_origins=(*DEFAULT_ORIGINS, *args.allow_origin),
        allowed_hosts=tuple(args.allow_host),
        max_sessions_per_client=args.max_sessions_per_client,
        audio_rate=AudioRateLimit(args.max_audio_rate) if args.max_audio_rate > 0 else None,
        max_session_s=args.max_session_hours * 3600 if args.max_session_hours > 0 else None,
        ssl=context,
    )


async def run_serve(
    config: ServerConfig,
    *,
    engine: str,
    model: str,
    threads: int,
    deepgram_url: str | None = None,
    deepgram_models: tuple[str, ...] = (),
    failover: bool = True,
) -> int:
    loaded = load_engine(
        engine,
        model,
        threads=threads,
        deepgram_url=deepgram_url,
        deepgram_models=deepgram_models,
        failover=failover,
    )
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
                f"{' (token required)' if config.token else ''}"
                f"{'' if config.token or is_loopback(config.host) else ' WITHOUT A TOKEN'}",
                file=sys.stderr,
                flush=True,
            )
            if note := loaded.selection_note:  # --model auto: what and why
                print(f"captionist: {note}", file=sys.stderr, flush=True)
            await stop.wait()
            print("captionist: shutting down", file=sys.stderr, flush=True)
    finally:
        await loaded.aclose()
    return 0
