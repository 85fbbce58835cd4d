"""Command line (docs/user-guide.md, Command line: a contract).

gui (default) | serve | transcribe | devices | models | sessions
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
from pathlib import Path

from app import __version__
from app.domain.export import FORMATS
from app.errors import CaptionError
from app.logs import SECRETS, configure_file_logging
from app.models.registry import DEFAULT_MODEL
from app.protocol.params import MAX_SPEAKERS
from app.server.engines import DEEPGRAM_MODEL, DEFAULT_THREADS

COMMANDS = ("gui", "serve", "transcribe", "devices", "models", "sessions")
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MODEL_HELP = (
    "tiny.en, base, a model folder, or auto: base once this computer is measured to keep up "
    "with it (measured once, in the background while nothing is captioned), else tiny.en "
    "(default: %(default)s)"
)


def _positive_threads(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError("must be between 1 and 64")
    return number


def _speaker_count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if not 1 <= number <= MAX_SPEAKERS:  # the server's bounds, said before anything runs
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_SPEAKERS}")
    return number


def _model_names(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(","))
    if not all(_MODEL_NAME.fullmatch(name) for name in names):
        raise argparse.ArgumentTypeError(
            "must be Deepgram model names separated by commas, such as nova-3,nova-2-meeting"
        )
    return names


ENGINES = ["whisper", "deepgram"]
ENGINE_HELP = "whisper: on this computer; deepgram: Deepgram's cloud, failing over to whisper"
THREADS_HELP = "CPU threads per decode (default: 2, or 1 on a one-core computer)"
TOKEN_HELP = "the bearer token clients must send (default: CAPTIONIST_TOKEN)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="captionist", description="Live captions for calls and meetings."
    )
    parser.add_argument("--version", action="version", version=f"captionist {__version__}")
    parser.add_argument(
        "--log-level",
        default=os.environ.get("CAPTIONIST_LOG", "WARNING"),
        help="DEBUG, INFO, WARNING or ERROR: what the log file keeps",
    )
    sub = parser.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="the desktop app (default)")
    gui.add_argument("--file", type=Path, help="caption this recording at once, as if live")
    gui.add_argument(
        "--selftest",
        action="store_true",
        help="caption the bundled sample offline, print a JSON report, exit 0 if all is well",
    )

    serve = sub.add_parser("serve", help="run the transcription server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free)")
    serve.add_argument("--engine", choices=ENGINES, default="whisper", help=ENGINE_HELP)
    serve.add_argument("--model", default=DEFAULT_MODEL, help=MODEL_HELP)
    serve.add_argument(
        "--deepgram-url",
        default=None,
        help="Deepgram live endpoint (default wss://api.deepgram.com/v1/listen; the API key "
        "comes from DEEPGRAM_API_KEY or the OS keyring)",
    )
    serve.add_argument(
        "--deepgram-models",
        type=_model_names,
        default=(),
        metavar="MODEL,...",
        help="with --engine deepgram: other Deepgram models clients may ask for with model= "
        f"(billed to your key; default: none, every session uses {DEEPGRAM_MODEL})",
    )
    serve.add_argument(
        "--no-failover",
        dest="failover",
        action="store_false",
        help="with --engine deepgram: end sessions on provider errors instead of going local",
    )
    serve.add_argument("--token", default=os.environ.get("CAPTIONIST_TOKEN"), help=TOKEN_HELP)
    serve.add_argument(
        "--threads",
        type=_positive_threads,
        default=DEFAULT_THREADS,
        help=THREADS_HELP,
    )
    serve.add_argument(
        "--idle-timeout",
        type=float,
        default=20.0,
        help="seconds without audio or KeepAlive before a session is closed",
    )
    serve.add_argument(
        "--insecure",
        action="store_true",
        help="allow a non-loopback --host without a token (anyone on the network may use it)",
    )
    serve.add_argument(
        "--allow-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin allowed besides http://localhost:* (repeatable; * = any port)",
    )
    serve.add_argument(
        "--allow-host", action="append", default=[], metavar="NAME", help="extra Host name"
    )
    serve.add_argument("--cert", type=Path, help="TLS certificate (PEM): serve wss://")
    serve.add_argument("--key", type=Path, help="TLS private key (PEM) for --cert")
    serve.add_argument(
        "--max-sessions-per-client", type=int, default=4, help="open sessions one client may hold"
    )
    serve.add_argument(
        "--max-audio-rate",
        type=float,
        default=2.0,
        help="close (4429) a session sending audio faster than this times real time "
        "after a 150 s allowance; 0 turns the limit off",
    )
    serve.add_argument(
        "--max-session-hours", type=float, default=4.0, help="0: sessions may last forever"
    )

    tr = sub.add_parser("transcribe", help="caption an audio file through the WebSocket path")
    tr.add_argument("audio", type=Path, help="a WAV, FLAC, Ogg (Vorbis, Opus), MP3 or AIFF file")
    tr.add_argument("--server", help="ws:// URL of a running server (default: embedded)")
    tr.add_argument("--token", default=os.environ.get("CAPTIONIST_TOKEN"), help=TOKEN_HELP)
    tr.add_argument("--engine", choices=ENGINES, default="whisper", help=ENGINE_HELP)
    tr.add_argument("--model", default=DEFAULT_MODEL, help=MODEL_HELP)
    tr.add_argument(
        "--deepgram-url",
        default=None,
        help="Deepgram live endpoint (default wss://api.deepgram.com/v1/listen; the API key "
        "comes from DEEPGRAM_API_KEY or the OS keyring)",
    )
    tr.add_argument(
        "--no-failover",
        dest="failover",
        action="store_false",
        help="with --engine deepgram: end sessions on provider errors instead of going local",
    )
    tr.add_argument("--realtime", action="store_true", help="pace the audio in real time")
    tr.add_argument(
        "--format", dest="fmt", choices=FORMATS, help="default: -o's extension, else txt"
    )
    tr.add_argument("-o", "--output", type=Path, help="write here (default: stdout)")
    tr.add_argument("--events", type=Path, help="write every message received as JSON lines")
    tr.add_argument("--threads", type=_positive_threads, default=DEFAULT_THREADS, help=THREADS_HELP)
    tr.add_argument(
        "--keyterm",
        dest="keyterms",
        action="append",
        default=[],
        metavar="TERM",
        help="a word or phrase to favour, such as a name (repeatable; sent as Deepgram's keyterm)",
    )
    tr.add_argument(
        "--diarize",
        action="store_true",
        help="label who speaks: each final word carries a speaker number (Deepgram's diarize)",
    )
    tr.add_argument(
        "--max-speakers",
        type=_speaker_count,
        metavar="N",
        help=f"with --diarize: the expected number of speakers (1-{MAX_SPEAKERS}); words then "
        "carry at most N speaker labels",
    )

    sub.add_parser("devices", help="list audio capture devices")

    models = sub.add_parser("models", help="list, verify or install models")
    models.add_argument(
        "action",
        nargs="?",
        choices=["list", "verify", "install"],
        default="list",
        help="list the models, verify their files' sha256, or install one",
    )
    models.add_argument("name", nargs="?", help="tiny.en or base")

    from app.commands.sessions import add_sessions_parser

    add_sessions_parser(sub)
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "serve":
        from app.commands.serve import run_serve, server_config

        config = server_config(args)
        return asyncio.run(
            run_serve(
                config,
                engine=args.engine,
                model=args.model,
                threads=args.threads,
                deepgram_url=args.deepgram_url,
                deepgram_models=args.deepgram_models,
                failover=args.failover,
            )
        )
    if args.command == "transcribe":
        from app.commands.transcribe import TranscribeOptions, run_transcribe

        options = TranscribeOptions(
            audio=args.audio,
            server=args.server,
            token=args.token,
            engine=args.engine,
            model=args.model,
            realtime=args.realtime,
            fmt=args.fmt,
            output=args.output,
            events=args.events,
            threads=args.threads,
            deepgram_url=args.deepgram_url,
            failover=args.failover,
            keyterms=tuple(args.keyterms),
            diarize=args.diarize,
            max_speakers=args.max_speakers,
        )
        return asyncio.run(run_transcribe(options))
    if args.command == "models":
        from app.commands.models import run_models

        return run_models(args.action, args.name)
    if args.command == "sessions":
        from app.commands.sessions import run_sessions

        return run_sessions(args)
    if args.command == "devices":
        from app.commands.devices import run_devices

        return run_devices()
    return _run_gui(getattr(args, "file", None), selftest=getattr(args, "selftest", False))


def _run_gui(file: Path | None, *, selftest: bool = False) -> int:
    try:
        from app.main import run_gui, run_selftest  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        print(
            "captionist: the desktop app is not part of this build yet; "
            "use 'captionist transcribe AUDIO' or 'captionist serve'",
            file=sys.stderr,
        )
        return 2
    if selftest:
        return int(run_selftest())
    configure_file_logging()
    return int(run_gui(file))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help", "--version", "--log-level"):
        argv.insert(0, "gui")  # `captionist [--file X]` is the desktop app
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "max_speakers", None) is not None and not args.diarize:
        parser.error("--max-speakers needs --diarize (it caps the speaker labels)")
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # the console too: no token on a terminal
        handler.addFilter(SECRETS)
    try:
        return _dispatch(args)
    except CaptionError as exc:
        print(f"captionist: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def gui_main() -> int:
    return main(["gui", *sys.argv[1:]])
