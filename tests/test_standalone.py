"""The repository stands on its own: no tracked file reaches a folder beside it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = "sha" + "red"  # the team's data folder beside the clone (spelled so as not to match)
# The folder by a relative path, the same path built in code (`.parent / NAME`, `parents[2] /
# NAME`), or a Makefile variable named after it.
REACHES_OUT = re.compile(
    rf"\.\./{OUTSIDE}\b|parents?(\[\d\])?\s*/\s*[\"']{OUTSIDE}[\"/']|\$\({OUTSIDE.upper()}\)",
)


def tracked_text_files() -> list[Path]:
    git = shutil.which("git")
    if not git or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        [git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    paths = [ROOT / name.decode() for name in listed if name]
    return [p for p in paths if p.is_file() and b"\0" not in p.read_bytes()[:4096]]


def test_no_tracked_file_refers_to_a_folder_beside_the_repository() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in tracked_text_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if REACHES_OUT.search(line)
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "line",
    [
        "see ../{o}/docs/architecture.md",
        'EVAL = ROOT.parent / "{o}" / "eval"',
        "root = Path(__file__).resolve().parents[2] / '{o}'",
        "\tbash $({O})/tools/virtual-audio.sh start",
    ],
)
def test_the_check_sees_each_way_of_reaching_out(line: str) -> None:
    assert REACHES_OUT.search(line.format(o=OUTSIDE, O=OUTSIDE.upper()))


def test_the_check_leaves_the_word_alone() -> None:
    for line in ("SileroNet.shared()", "shared by every caller", "share_threads_with=engine"):
        assert not REACHES_OUT.search(line)
