"""`captionist sessions list|search|export` (a contract: docs/user-guide.md):
the session library from a terminal or a script, over CAPTIONIST_DATA_DIR/sessions when set.

They never modify a journal (the index, `<data>/library.sqlite`, may be written). Output is
one tab-separated line per session or hit. Exit codes, as grep's: 0 something printed or
written, 1 nothing to show (an empty library, no hit), 2 an error (an unknown session, a file
that cannot be written, a query with no word, a Python without FTS5), said on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from app.domain.export import FORMATS
from app.domain.library import format_duration
from app.domain.search_query import fts_query
from app.errors import LibraryError
from app.services.library import SessionLibrary
from app.services.private_files import write_export

FOUND, NOTHING, ERROR = 0, 1, 2


def add_sessions_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sessions = sub.add_parser("sessions", help="list, search and export saved sessions")
    actions = sessions.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="one line per session: id, start, duration, title")
    search = actions.add_parser("search", help="matching lines: session id, time, speaker, text")
    search.add_argument(
        "query", nargs="+", metavar="QUERY", help='words (all must match), word*, "a phrase"'
    )
    export = actions.add_parser("export", help="a session as txt, srt, vtt, json or md")
    export.add_argument("session_id", metavar="ID", help="as `sessions list` prints it")
    export.add_argument(
        "--format", dest="fmt", choices=FORMATS, help="default: -o's extension, else txt"
    )
    export.add_argument("-o", "--output", type=Path, help="write here (default: stdout)")


def run_sessions(args: argparse.Namespace) -> int:
    library = SessionLibrary()
    try:
        with _stdout_may_close():
            return _ACTIONS[args.action](library, args)
    except LibraryError as exc:
        return _error(str(exc))
    finally:
        library.close()


def _list(library: SessionLibrary, args: argparse.Namespace) -> int:
    listed = library.sessions()
    if not listed:
        return _empty(library)
    for session in listed:
        start = f"{session.started:%Y-%m-%d %H:%M:%S}"
        print(f"{session.id}\t{start}\t{format_duration(session.duration_s)}\t{session.title}")
    return FOUND


def _search(library: SessionLibrary, args: argparse.Namespace) -> int:
    typed = " ".join(args.query)
    if fts_query(typed) is None:
        return _error(f"no word to look for in {typed!r}")
    hits = library.search(typed)
    if not hits:
        if not library.sessions():
            return _empty(library)
        print(f"captionist: no line says {typed!r}", file=sys.stderr)
        return NOTHING
    for hit in hits:
        print(f"{hit.session_id}\t{format_duration(hit.start_s)}\t{hit.speaker}\t{hit.text}")
    return FOUND


def _export(library: SessionLibrary, args: argparse.Namespace) -> int:
    fmt = args.fmt or _format_of(args.output)
    if fmt is None:
        return _error(
            f"cannot tell an export format from {args.output.name!r}; "
            f"use --format ({', '.join(FORMATS)})"
        )
    text = library.export(args.session_id, fmt)
    if args.output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8"))  # the bytes a file would hold
        return FOUND
    try:  # private (0600) inside the data folder, else with the user's umask
        write_export(args.output, text, library.directory.parent)
    except OSError as exc:
        return _error(f"cannot write {args.output}: {exc.strerror or exc}")
    return FOUND


_ACTIONS: dict[str, Callable[[SessionLibrary, argparse.Namespace], int]] = {
    "list": _list,
    "search": _search,
    "export": _export,
}


def _format_of(output: Path | None) -> str | None:
    """The `-o` extension's format (none: txt); None for one no format has."""
    if output is None:
        return "txt"
    suffix = output.suffix.lstrip(".").lower()
    if not suffix:
        return "txt"
    return suffix if suffix in FORMATS else None


def _empty(library: SessionLibrary) -> int:
    print(f"captionist: no saved sessions in {library.directory}", file=sys.stderr)
    return NOTHING


def _error(message: str) -> int:
    print(f"captionist: error: {message}", file=sys.stderr)
    return ERROR


@contextlib.contextmanager
def _stdout_may_close() -> Iterator[None]:
    """`captionist sessions list | head`: a reader that stops early is not an error."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would complain again flushing stdout at exit: point it at nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
