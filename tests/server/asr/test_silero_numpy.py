"""The numpy Silero VAD against ONNX Runtime on faster-whisper's own ONNX file (the reference the
weights came from), its shipped weights' hash, and the converter that extracts them."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import soundfile

from app.errors import EngineError, ModelHashMismatch, ModelNotFound
from app.server.asr.silero_net import MODEL_SHA256, SileroNet, model_path
from app.server.asr.vad import CONTEXT, WINDOW, StreamingVad
from app.server.asr.whisper_parts import assets_dir
from tests.packaging_scripts import packaging_script

ROOT = Path(__file__).resolve().parents[3]
TOLERANCE = 1e-4  # absolute, on probabilities and on the LSTM state
# (eval item, start s, seconds): read speech with pauses, a meeting, a crowd-sourced mic.
EXCERPTS = [
    ("pub_ljspeech_session_01", 8.0, 8.0),
    ("pub_ami_meeting_ES2004a_part1", 0.0, 12.0),
    ("pub_commonvoice_01", 0.0, 10.3),
]


def converter() -> ModuleType:
    return packaging_script("convert_silero")


@pytest.fixture(scope="module")
def reference():  # type: ignore[no-untyped-def]
    """faster-whisper's silero_vad_v6.onnx run by ONNX Runtime (a test dependency only)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.log_severity_level = 4
    return onnxruntime.InferenceSession(
        str(assets_dir() / "silero_vad_v6.onnx"),
        providers=["CPUExecutionProvider"],
        sess_options=options,
    )


def reference_probabilities(session, audio: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Every whole window of `audio` in one ONNX call: its LSTM runs along the batch rows, each
    row a window after the 64 samples before it (zeros before the first)."""
    count = len(audio) // WINDOW
    padded = np.concatenate([np.zeros(CONTEXT, np.float32), audio[: count * WINDOW]])
    rows = np.stack([padded[i * WINDOW : i * WINDOW + CONTEXT + WINDOW] for i in range(count)])
    zeros = np.zeros((1, 1, 128), np.float32)
    (probabilities, _, _) = session.run(None, {"input": rows, "h": zeros, "c": zeros})
    return np.asarray(probabilities).reshape(-1)


def excerpt(speech_dir: Path, item: str, start: float, seconds: float) -> np.ndarray:
    audio, rate = soundfile.read(speech_dir / f"audio/{item}.flac", dtype="float32")
    assert rate == 16000 and audio.ndim == 1
    return audio[int(start * rate) : int((start + seconds) * rate)]


@pytest.mark.parametrize(("item", "start", "seconds"), EXCERPTS)
def test_streaming_in_irregular_chunks_gives_onnx_runtimes_probabilities(
    reference, speech_dir: Path, item: str, start: float, seconds: float
) -> None:  # type: ignore[no-untyped-def]
    audio = excerpt(speech_dir, item, start, seconds)
    expected = reference_probabilities(reference, audio)
    # Both speech and silence, or the comparison would prove little.
    assert expected.max() > 0.9 and expected.min() < 0.1

    vad = StreamingVad(SileroNet.shared())
    rng = np.random.default_rng(len(audio))
    got: list[np.ndarray] = []
    position = 0
    while position < len(audio):
        # From under one window (nothing comes out) to several at once.
        size = int(rng.choice([0, 1, 100, 511, 512, 513, 1000, 4096, 16000]) + rng.integers(0, 64))
        got.append(vad.process(audio[position : position + size]))
        position += size
    probabilities = np.concatenate(got)

    assert probabilities.dtype == np.float32
    assert len(probabilities) == len(expected) == len(audio) // WINDOW
    assert np.abs(probabilities - expected).max() < TOLERANCE


def test_a_batch_steps_the_lstm_along_its_rows_as_onnx_runtime_does(reference) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    rows = (rng.standard_normal((9, CONTEXT + WINDOW)) * 0.1).astype(np.float32)
    h = (rng.standard_normal((1, 1, 128)) * 0.5).astype(np.float32)
    c = (rng.standard_normal((1, 1, 128)) * 0.5).astype(np.float32)
    expected, expected_h, expected_c = reference.run(None, {"input": rows, "h": h, "c": c})

    net = SileroNet.shared()
    probabilities, h_out, c_out = net.run(rows, h, c)
    assert np.abs(probabilities - expected.reshape(-1)).max() < TOLERANCE
    assert h_out.shape == c_out.shape == (1, 1, 128)
    assert np.abs(h_out - expected_h).max() < TOLERANCE
    assert np.abs(c_out - expected_c).max() < TOLERANCE
    # The same as one row at a time with the state carried.
    one_by_one = []
    for row in rows:
        probability, h, c = net.run(row[None], h, c)
        one_by_one.append(probability)
    assert np.abs(np.concatenate(one_by_one) - probabilities).max() < 1e-6
    assert np.abs(h - h_out).max() < 1e-6


def test_the_vad_runs_without_onnx_runtime() -> None:
    """The server's VAD path (the engine module, the shipped weights) never imports it."""
    script = (
        "import sys, numpy as np\n"
        "import app.server.engines.whisper\n"
        "from app.server.asr.vad import StreamingVad\n"
        "StreamingVad().process(np.zeros(16000, np.float32))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('onnxruntime', 'onnx')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_shipped_weights_pass_their_pinned_hash() -> None:
    assert hashlib.sha256(model_path().read_bytes()).hexdigest() == MODEL_SHA256
    SileroNet.load()


def test_weights_that_fail_their_hash_are_refused(tmp_path: Path) -> None:
    corrupt = tmp_path / "silero_vad_v6.npz"
    data = bytearray(model_path().read_bytes())
    data[len(data) // 2] ^= 1
    corrupt.write_bytes(bytes(data))
    with pytest.raises(ModelHashMismatch):
        SileroNet.load(corrupt)
    with pytest.raises(ModelNotFound):
        SileroNet.load(tmp_path / "missing.npz")


def test_a_file_with_the_expected_hash_but_no_weights_is_refused_with_the_reason(
    tmp_path: Path,
) -> None:
    for name, content in (("garbage.npz", b"not a zip"), ("empty.npz", b"")):
        path = tmp_path / name
        if content:
            path.write_bytes(content)
        else:
            np.savez(path, other=np.zeros(1))  # a real archive without the network's arrays
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with pytest.raises(EngineError, match="not a Silero VAD weights file"):
            SileroNet.load(path, expected_sha256=digest)


def test_the_converter_reproduces_the_committed_weights() -> None:
    pytest.importorskip("onnx")
    assert converter().convert() == model_path().read_bytes()


def test_the_converter_refuses_another_onnx_file(tmp_path: Path) -> None:
    convert = converter()
    other = tmp_path / "silero_vad_v6.onnx"
    shutil.copyfile(assets_dir() / "silero_vad_v6.onnx", other)
    with other.open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(convert.ConversionError, match="sha256"):
        convert.convert(other)
