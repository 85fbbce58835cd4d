"""The command line, run as a user runs it: subprocesses, real model, real files."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.conftest import ROOT, TIMEOUT_FACTOR
from tests.formats import assert_export_format
from tests.streaming import manifest, wer

pytestmark = pytest.mark.e2e
CAPTIONIST = [sys.executable, "-m", "app"]
SEED = ROOT / "tests" / "seed"


def captionist(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CAPTIONIST, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout * TIMEOUT_FACTOR,
    )


def wait_for_port(port: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout * TIMEOUT_FACTOR
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not listen")


@pytest.fixture
def default_server() -> Iterator[subprocess.Popen[str]]:
    """`captionist serve` with no options: 127.0.0.1:8000."""
    proc = subprocess.Popen([*CAPTIONIST, "serve"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    wait_for_port(8000, proc)
    yield proc
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


@pytest.mark.model
def test_transcribe_prints_finals_and_writes_every_format(tmp_path: Path, speech_dir: Path) -> None:
    item = manifest(speech_dir)["pub_librispeech_session_01"]
    audio = speech_dir / item["audio"]
    events = tmp_path / "events.jsonl"
    result = captionist(
        "transcribe", str(audio), "-o", str(tmp_path / "out.srt"), "--events", str(events)
    )
    assert result.returncode == 0, result.stderr
    assert wer(item["text_norm"], result.stdout) <= 0.30
    cues = assert_export_format(tmp_path / "out.srt", "srt")  # -o's extension picks it
    assert wer(item["text_norm"], " ".join(cues)) <= 0.30
    records = [json.loads(line) for line in events.read_text().splitlines()]
    assert {"t", "audio_s", "msg"} <= set(records[0])
    assert records[-1]["msg"]["type"] == "Metadata"
    assert all(a["t"] <= b["t"] for a, b in itertools.pairwise(records))
    jfk = speech_dir / "audio/pub_jfk_inaugural_01.flac"
    # (arguments, the format wanted, where it goes): --format alone prints the export; with -o
    # it beats the extension; -o alone goes by the extension, TXT when there is none.
    runs = [
        (["--format", "vtt"], "vtt", None),
        (["-o", str(tmp_path / "out.json")], "json", tmp_path / "out.json"),
        (["-o", str(tmp_path / "md.txt"), "--format", "md"], "md", tmp_path / "md.txt"),
        (["-o", str(tmp_path / "plain")], "txt", tmp_path / "plain"),
    ]
    for args, fmt, path in runs:
        exported = captionist("transcribe", str(jfk), *args)
        assert exported.returncode == 0, exported.stderr
        texts = assert_export_format(path or exported.stdout, fmt, title=jfk.stem)
        assert "country" in " ".join(texts).lower(), fmt


def test_transcribe_refuses_an_output_name_without_a_format_before_transcribing(
    tmp_path: Path,
) -> None:
    wav = tmp_path / "tone.wav"
    soundfile.write(wav, np.zeros(1600, dtype=np.float32), 16000)
    result = captionist("transcribe", str(wav), "-o", str(tmp_path / "out.text"))
    assert result.returncode == 1
    assert "export format" in result.stderr and "--format" in result.stderr
    assert "Traceback" not in result.stderr and "captioned" not in result.stderr
    assert not (tmp_path / "out.text").exists()


@pytest.mark.parametrize(
    ("output", "says"),
    [("missing-folder/out.srt", "does not exist"), (".", "is a folder")],
    ids=["missing-folder", "folder"],
)
def test_transcribe_refuses_an_output_it_cannot_write_before_transcribing(
    tmp_path: Path, output: str, says: str
) -> None:
    """Issue 12: a bad -o path failed only after the whole run, with a traceback."""
    wav = tmp_path / "tone.wav"
    soundfile.write(wav, np.zeros(1600, dtype=np.float32), 16000)
    result = captionist("transcribe", str(wav), "-o", str(tmp_path / output), "--format", "srt")
    assert result.returncode == 1
    assert says in result.stderr and "-o" in result.stderr
    assert "Traceback" not in result.stderr and "captioned" not in result.stderr


def test_transcribe_prints_the_transcript_when_its_file_cannot_be_written_at_the_end(
    speech_dir: Path,
) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    audio = speech_dir / "audio/pub_jfk_inaugural_01.flac"
    result = captionist("transcribe", str(audio), "-o", "/dev/full", "--format", "md")
    assert result.returncode == 1
    assert "cannot write /dev/full: No space left" in result.stderr
    assert "# pub_jfk_inaugural_01" in result.stdout  # nothing lost: the export went to stdout
    assert "Traceback" not in result.stderr


def test_transcribe_reports_a_missing_file_clearly(tmp_path: Path) -> None:
    result = captionist("transcribe", str(tmp_path / "nope.wav"))
    assert result.returncode == 1
    assert "cannot read audio file" in result.stderr and "nope.wav" in result.stderr
    assert "Traceback" not in result.stderr


def test_transcribe_reports_a_dead_server_clearly(tmp_path: Path) -> None:
    wav = tmp_path / "tone.wav"
    soundfile.write(wav, np.zeros(1600, dtype=np.float32), 16000)
    result = captionist("transcribe", str(wav), "--server", "ws://127.0.0.1:9/ws/transcribe")
    assert result.returncode == 1 and "cannot reach transcription server" in result.stderr


@pytest.mark.model
def test_transcribe_against_a_running_server_with_token(tmp_path: Path, speech_dir: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [*CAPTIONIST, "serve", "--port", str(port), "--token", "t0k"],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_port(port, proc)
        url = f"ws://127.0.0.1:{port}/ws/transcribe"
        audio = str(speech_dir / "audio/pub_jfk_inaugural_01.flac")
        refused = captionist("transcribe", audio, "--server", url)
        assert refused.returncode == 1 and "401" in refused.stderr
        ok = captionist("transcribe", audio, "--server", url, "--token", "t0k")
        assert ok.returncode == 0 and "country" in ok.stdout.lower()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


@pytest.mark.model
@pytest.mark.node
def test_seed_article_javascript_client_works_unchanged(
    default_server: subprocess.Popen[str], tmp_path: Path, speech_dir: Path
) -> None:
    node = shutil.which("node")
    assert node, "node is needed (Debian package nodejs)"
    audio, _ = soundfile.read(speech_dir / "audio/pub_jfk_inaugural_01.flac", dtype="int16")
    pcm = tmp_path / "jfk.s16le"
    pcm.write_bytes(audio.astype("<i2").tobytes())
    result = subprocess.run(
        [
            node,
            "--experimental-websocket",
            str(SEED / "harness.js"),
            str(SEED / "transcription_client.js"),
            str(pcm),
        ],
        capture_output=True,
        text=True,
        timeout=180 * TIMEOUT_FACTOR,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    finals = " ".join(x["text"] for x in lines if x.get("isFinal") and x.get("text"))
    assert (
        wer(
            "and so my fellow americans ask not what your country can do for you "
            "ask what you can do for your country",
            finals,
        )
        <= 0.3
    ), finals
    assert lines[-1] == {"closed": 1000}


def test_models_verify_and_list_from_the_command_line() -> None:
    listed = captionist("models", "list")
    assert listed.returncode == 0 and "tiny.en" in listed.stdout
    verified = captionist("models", "verify", "tiny.en")
    assert verified.returncode == 0 and "tiny.en: ok" in verified.stdout


def test_serve_refuses_a_busy_port_clearly(default_server: subprocess.Popen[str]) -> None:
    result = captionist("serve", timeout=120)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "8000" in result.stderr
