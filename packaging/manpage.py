"""captionist(1), the manual page, written from the CLI's own argparse parser (app/cli.py), so
it cannot drift from the commands it documents. Used by packaging/make_deb.py.

    python packaging/manpage.py > captionist.1 && man -l captionist.1
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DESCRIPTION = """\
Captionist puts live captions on screen during calls and meetings and keeps a transcript
you can search and save. Run without a command, it starts the desktop app. Speech
recognition runs on this computer with Whisper (tiny.en is included); the commands below
also serve captions to other programs over a WebSocket shaped like Deepgram's live API,
caption recordings, and list, search and export saved sessions.
"""
FILES = [
    ("~/.local/share/captionist/sessions", "saved sessions, one journal each"),
    ("~/.local/share/captionist/library.sqlite", "the library's search index (rebuilt if lost)"),
    ("~/.config/captionist/captionist.conf", "settings"),
    ("~/.local/state/captionist/log/captionist.log", "the log (rotated at 1 MB, 3 kept)"),
    ("~/.cache/captionist", 'models installed with "captionist models install"'),
]
ENVIRONMENT = [
    ("DEEPGRAM_API_KEY", "the Deepgram key, when not kept in the OS keyring"),
    ("CAPTIONIST_TOKEN", "the default --token of serve and transcribe"),
    ("CAPTIONIST_LOG", "the default --log-level"),
    ("CAPTIONIST_DATA_DIR", "instead of ~/.local/share/captionist"),
    ("CAPTIONIST_CACHE_DIR", "instead of ~/.cache/captionist"),
    ("CAPTIONIST_LOG_DIR", "instead of ~/.local/state/captionist/log"),
]


def roff(text: str) -> str:
    """Plain text as roff: backslashes and hyphens escaped, no line starting a request."""
    escaped = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(
        "\\&" + line if line.startswith((".", "'")) else line for line in escaped.splitlines()
    )


def option_line(action: argparse.Action) -> str:
    """`\\fB\\-\\-host\\fR \\fIHOST\\fR`: the option's spellings in bold, its value in italics."""
    if action.choices is not None:
        value = "{" + ",".join(str(choice) for choice in action.choices) + "}"
    else:
        value = str(action.metavar or action.dest)
    if not action.option_strings:  # a positional argument
        return f"\\fI{roff(value if action.choices is not None else value.upper())}\\fR"
    names = ", ".join(f"\\fB{roff(name)}\\fR" for name in action.option_strings)
    if action.nargs == 0:
        return names
    if action.choices is None and action.metavar is None:
        value = value.upper()
    return f"{names} \\fI{roff(value)}\\fR"


def describe(action: argparse.Action) -> str:
    """The option's help as argparse expands it (`%(default)s`), with its default when the
    help does not already say it."""
    text = (action.help or "").strip()
    if "%(" in text:
        text = text % {**vars(action), "prog": "captionist"}
    default = action.default
    if (
        action.option_strings
        and action.nargs != 0
        and default not in (None, argparse.SUPPRESS, "", (), [])
        and "default" not in text
    ):
        text = f"{text} (default: {default})".strip()
    return roff(text)


# argparse keeps its actions and subcommand helps in private fields, stable since Python 3.2.
def options(parser: argparse.ArgumentParser) -> list[str]:
    lines = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        lines += [".TP", option_line(action), describe(action) or "."]
    return lines


def commands(parser: argparse.ArgumentParser, prefix: str) -> list[str]:
    """A subsection for every command (and its own commands), with its help and options."""
    lines: list[str] = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
        for name, sub in action.choices.items():
            title = f"{prefix} {name}"
            lines += [f'.SS "{roff(title)}"', roff(helps.get(name, "")) or "."]
            lines += options(sub)
            lines += commands(sub, title)
    return lines


def manpage(parser: argparse.ArgumentParser, version: str, date: str) -> str:
    lines = [
        f'.TH CAPTIONIST 1 "{date}" "captionist {version}" "User Commands"',
        ".SH NAME",
        "captionist \\- live captions for calls and meetings",
        ".SH SYNOPSIS",
        ".B captionist",
        "[\\fIOPTIONS\\fR] [\\fICOMMAND\\fR [\\fICOMMAND OPTIONS\\fR]]",
        ".SH DESCRIPTION",
        roff(DESCRIPTION),
        ".SH OPTIONS",
        *options(parser),
        ".SH COMMANDS",
        *commands(parser, "captionist"),
        ".SH FILES",
    ]
    for path, what in FILES:
        lines += [".TP", f"\\fI{roff(path)}\\fR", roff(what)]
    lines.append(".SH ENVIRONMENT")
    for name, what in ENVIRONMENT:
        lines += [".TP", f"\\fB{name}\\fR", roff(what)]
    lines += [
        ".SH SEE ALSO",
        "The README in the source repository, and Help > Keyboard shortcuts (F1) in the app.",
    ]
    return "\n".join(lines) + "\n"


def captionist_manpage(version: str, date: str) -> str:
    """The page for app/cli.py's parser, built without the environment's defaults (a
    CAPTIONIST_TOKEN set where the package is built must not end up in it)."""
    sys.path.insert(0, str(ROOT))
    from app.cli import build_parser

    saved = {k: v for k, v in os.environ.items() if k.startswith(("CAPTIONIST_", "DEEPGRAM_"))}
    for name in saved:
        del os.environ[name]
    try:
        return manpage(build_parser(), version, date)
    finally:
        os.environ.update(saved)


if __name__ == "__main__":
    from make_deb import APP_ID, app_version, metainfo_releases

    releases = metainfo_releases(ROOT / "packaging" / "linux" / f"{APP_ID}.metainfo.xml")
    print(captionist_manpage(app_version(), releases[0][1] if releases else ""), end="")
