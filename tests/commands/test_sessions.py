"""`captionist sessions list|search|export` (a contract: docs/user-guide.md),
run as a user runs them: `python -m app` subprocesses over hundreds of journals in
CAPTIONIST_DATA_DIR."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain.journal import encode_line, encode_rename, encode_title
from app.domain.transcript import Segment
from app.services.library import SessionLibrary
from tests.conftest import ROOT, TIMEOUT_FACTOR

sys.path.insert(0, str(ROOT / "bench"))
from library import build_library

JOURNALS = 300
SEGMENTS = 3000
NAMED = "2030-01-02T03-04-05"  # after every generated one: the last line of a list
NAMED_LINES = [
    Segment("The quarterly numbers, Zoë?", 0.0, 1.5, "Speaker 1", True, True),
    Segment('She said "AND" -- twice * (really)', 2.0, 3.0, "You", True, True),
]


def captionist(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAPTIONIST_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "app", "sessions", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60 * TIMEOUT_FACTOR,
    )


def journal_bytes(sessions: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(sessions.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("data")
    sessions = data / "sessions"
    build_library(sessions, JOURNALS - 1, SEGMENTS)
    lines = [encode_line(s) for s in NAMED_LINES]
    lines += [encode_rename("Speaker 1", "Alice"), encode_title("Numbers review")]
    (sessions / f"{NAMED}.jsonl").write_text("".join(lines), encoding="utf-8")
    before = journal_bytes(sessions)
    yield data
    assert journal_bytes(sessions) == before, "a sessions command changed a journal"


@pytest.fixture(scope="module")
def library(data: Path) -> Iterator[SessionLibrary]:
    library = SessionLibrary(data / "sessions", index_path=data / "expected.sqlite")
    yield library
    library.close()


def test_list_prints_one_line_per_session_oldest_first(data: Path, library: SessionLibrary) -> None:
    result = captionist(data, "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == JOURNALS
    expected = library.sessions()
    assert [line.split("\t")[0] for line in lines] == [s.id for s in expected]
    assert lines[-1] == f"{NAMED}\t2030-01-02 03:04:05\t0:03\tNumbers review"
    first = expected[0]
    assert lines[0].split("\t")[3] == first.title
    assert (data / "library.sqlite").is_file()  # the index, beside the sessions folder


def test_search_prints_session_time_speaker_and_text(data: Path, library: SessionLibrary) -> None:
    result = captionist(data, "search", "quarterly", "zoe")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{NAMED}\t0:00\tAlice\tThe quarterly numbers, Zoë?\n"
    common = captionist(data, "search", "budget")
    hits = library.search("budget")
    assert len(hits) > 5
    assert common.stdout.splitlines() == [
        f"{h.session_id}\t{h.start_s // 60:.0f}:{h.start_s % 60:02.0f}\t{h.speaker}\t{h.text}"
        for h in hits
    ]


@pytest.mark.parametrize(
    "query", ['"AND"', "AND", "--", "twice *", "(really)", '"she said', "NOT really", "*"]
)
def test_search_takes_anything_typed_as_words(data: Path, query: str) -> None:
    result = captionist(data, "search", "--", query)
    assert "Traceback" not in result.stderr
    if query in ("--", "*"):
        assert result.returncode == 2 and "no word to look for" in result.stderr
    elif query == "NOT really":
        assert result.returncode == 1 and result.stdout == ""  # no line says "not"
    else:
        assert result.returncode == 0, result.stderr
        assert f"{NAMED}\t0:02\tYou\t" in result.stdout


def test_search_without_a_hit_says_so_and_exits_1(data: Path) -> None:
    result = captionist(data, "search", "nothingsaysthis")
    assert (result.returncode, result.stdout) == (1, "")
    assert "no line" in result.stderr


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "json", "md"])
def test_export_prints_the_apps_export_with_names(
    data: Path, library: SessionLibrary, fmt: str
) -> None:
    result = captionist(data, "export", NAMED, "--format", fmt)
    assert result.returncode == 0, result.stderr
    assert result.stdout == library.export(NAMED, fmt)
    assert "Alice" in result.stdout


def test_export_writes_the_file_named_in_its_format(
    data: Path, library: SessionLibrary, tmp_path: Path
) -> None:
    out = tmp_path / "meeting.vtt"
    result = captionist(data, "export", NAMED, "-o", str(out))
    assert (result.returncode, result.stdout) == (0, "")
    assert out.read_text(encoding="utf-8") == library.export(NAMED, "vtt")
    default = captionist(data, "export", NAMED)
    assert default.stdout == library.export(NAMED, "txt")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "1999-01-01T00-00-00"], "no saved session '1999-01-01T00-00-00'"),
        (["export", "../../etc/passwd"], "no saved session"),
        (["export", NAMED, "-o", "{tmp}/missing/out.txt"], "cannot write"),
        (["export", NAMED, "-o", "{tmp}"], "cannot write"),  # a folder
        (["export", NAMED, "-o", "{tmp}/notes.docx"], "--format"),
        (["export", NAMED, "--format", "pdf"], "invalid choice"),
    ],
)
def test_export_errors_are_clear_and_exit_2(
    data: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = captionist(data, *(arg.format(tmp=tmp_path) for arg in args))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_an_empty_library_says_where_it_looked(tmp_path: Path) -> None:
    for args in (["list"], ["search", "budget"]):
        result = captionist(tmp_path, *args)
        assert (result.returncode, result.stdout) == (1, "")
        assert f"no saved sessions in {tmp_path / 'sessions'}" in result.stderr
    result = captionist(tmp_path, "export", NAMED)
    assert result.returncode == 2 and "no saved session" in result.stderr
    assert not (tmp_path / "sessions").exists()  # looking creates nothing


def test_a_corrupt_index_is_rebuilt_and_the_output_is_the_same(data: Path) -> None:
    before = captionist(data, "list").stdout
    (data / "library.sqlite").write_bytes(b"garbage" * 1000)
    result = captionist(data, "list")
    assert result.returncode == 0 and result.stdout == before
    assert "rebuilding" in result.stderr
    assert captionist(data, "search", "quarterly").returncode == 0
