"""captionist(1) (packaging/manpage.py): written from the CLI's parser, it documents every
command and option there is, renders without warnings, and never carries the build
machine's environment."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from app.cli import build_parser
from tests.packaging.test_packaging import tool
from tests.packaging_scripts import packaging_script


def load_manpage() -> ModuleType:
    return packaging_script("manpage")


manpage = load_manpage()


def every_command(
    parser: argparse.ArgumentParser, prefix: str = "captionist"
) -> dict[str, argparse.ArgumentParser]:
    found = {prefix: parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= every_command(sub, f"{prefix} {name}")
    return found


def test_every_command_and_option_of_the_cli_is_in_the_page() -> None:
    page = manpage.captionist_manpage("9.9", "2026-12-01")
    commands = every_command(build_parser())
    assert {"captionist sessions export", "captionist serve", "captionist models"} <= set(commands)
    for title, parser in commands.items():
        if title != "captionist":
            assert f'.SS "{manpage.roff(title)}"' in page, title
        for action in parser._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert f"\\fB{manpage.roff(option)}\\fR" in page, (title, option)
    assert "\\fB\\-\\-max\\-speakers\\fR \\fIN\\fR" in page
    assert "%(" not in page  # argparse's placeholders expanded: "(default: tiny.en)"
    assert "\\fI{list,verify,install}\\fR" in page  # a positional's choices


def test_text_that_roff_would_read_as_requests_or_escapes_is_escaped() -> None:
    assert manpage.roff(".hidden\n'quoted\nback\\slash -x") == (
        "\\&.hidden\n\\&'quoted\nback\\eslash \\-x"
    )


def test_the_build_environment_stays_out_of_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTIONIST_TOKEN", "s3cret-token")
    monkeypatch.setenv("CAPTIONIST_LOG", "DEBUG")
    page = manpage.captionist_manpage("9.9", "2026-12-01")
    assert "s3cret" not in page
    assert "(default: WARNING)" in page


def test_man_renders_it_without_warnings(tmp_path: Path) -> None:
    source = tmp_path / "captionist.1"
    source.write_text(manpage.captionist_manpage("9.9", "2026-12-01"))
    result = subprocess.run(
        [tool("man"), "--warnings", "-l", str(source)],
        capture_output=True,
        text=True,
        env={"MANWIDTH": "80", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert "captionist sessions search" in result.stdout
