"""The bundle leaves PyAV (FFmpeg, ~100 MB) and huggingface_hub out (packaging/captionist.spec).
These tests run the app's code in a process where neither can be imported, as in the bundle:
the engine still loads and captions, and a file only FFmpeg could read is refused with an error
that names what this build reads and how to convert the file. With PyAV there (a source
install), the same file still opens."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT

# Set before anything imports them: `import av` then fails and find_spec("av") is None,
# as in the bundle, where they are not collected at all.
WITHOUT_PYAV = "import sys; sys.modules['av'] = None; sys.modules['huggingface_hub'] = None; "


def run_without_pyav(
    code: str, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_PYAV + code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def write_m4a(path: Path) -> None:
    """One second of a 440 Hz tone as AAC in an MP4 container (PyAV's own encoder)."""
    import av

    rate = 16000
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)).astype(np.float32)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def test_an_m4a_still_opens_where_pyav_is_installed(tmp_path: Path) -> None:
    from app.audio.file_source import read_audio

    m4a = tmp_path / "talk.m4a"
    write_m4a(m4a)
    audio = read_audio(m4a)
    assert audio.sample_rate == 16000
    assert 0.9 < audio.duration < 1.2


def test_without_pyav_an_m4a_is_refused_naming_what_opens_and_how_to_convert(
    tmp_path: Path,
) -> None:
    m4a = tmp_path / "talk.m4a"
    write_m4a(m4a)
    result = run_without_pyav(
        "from app.audio.file_source import read_audio\n"
        "from app.errors import AudioFileError\n"
        "try:\n"
        f"    read_audio({str(m4a)!r})\n"
        "except AudioFileError as exc:\n"
        "    print(exc.reason)\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    reason = result.stdout.strip()
    assert "M4A" in reason, reason
    for readable in ("WAV", "FLAC", "OGG", "MP3"):
        assert readable in reason, reason
    assert f'ffmpeg -i "{m4a}" "{m4a.with_suffix(".flac")}"' in reason, reason


def test_without_pyav_a_wav_opens(tmp_path: Path) -> None:
    import soundfile

    wav = tmp_path / "talk.wav"
    soundfile.write(str(wav), np.zeros(8000, dtype=np.float32), 16000)
    result = run_without_pyav(
        f"from app.audio.file_source import read_audio\nprint(read_audio({str(wav)!r}).duration)\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert float(result.stdout.strip()) == pytest.approx(0.5)


@pytest.mark.e2e
@pytest.mark.model
def test_without_pyav_the_selftest_loads_the_engine_and_captions(tmp_path: Path) -> None:
    result = run_without_pyav(
        "from app.main import run_selftest\n"
        "assert 'faster_whisper.transcribe' not in sys.modules\n"
        "code = run_selftest()\n"
        "assert sys.modules['av'] is None  # nothing swapped it for the real one\n"
        "sys.exit(code)\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and "country" in report["text"].lower()


def test_the_open_dialog_offers_what_this_build_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from app.audio.file_source import open_dialog_filter

    real = importlib.util.find_spec
    with_av = open_dialog_filter()
    assert "*.flac" in with_av and ("*.m4a" in with_av) == (real("av") is not None)
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "av" else real(name, *a)
    )
    without = open_dialog_filter()
    assert "*.mp3" in without and "*.m4a" not in without and "*.webm" not in without
