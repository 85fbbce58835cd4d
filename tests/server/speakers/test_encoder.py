"""The shipped GE2E speaker encoder: its hash, its maths against Resemblyzer's and against the
ONNX model it replaced, and its use."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.errors import EngineError, ModelHashMismatch, ModelNotFound
from app.resources import SAMPLE, resources_dir
from app.server.speakers.encoder import MODEL_SHA256, SpeakerEncoder, model_path, unit_mean
from app.server.speakers.features import partial_mels
from tests.ge2e_onnx import SHIPPED_ONNX_SHA256, build_model
from tests.ge2e_reference import ROOT, checkpoint_or_skip, converter, encoder_forward
from tests.streaming import manifest

SHIPPED_SHA256 = "59c3945d3e48bf31955fddb9d7863ed8b8f6f1a6232b8396a17fe26876e99372"


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    return SpeakerEncoder.load()


def random_mels(batch: int, seed: int = 0) -> np.ndarray:
    """Power-mel-like input: non-negative, heavy-tailed."""
    return np.random.default_rng(seed).gamma(0.5, 2.0, (batch, 160, 40)).astype(np.float32)


def jfk(seconds: float) -> np.ndarray:
    audio, rate = soundfile.read(str(resources_dir() / SAMPLE), dtype="float32")
    assert rate == 16000
    return np.asarray(audio[: int(seconds * rate)])


def jfk_mels() -> np.ndarray:
    return partial_mels(jfk(3.0))


def test_the_shipped_model_is_the_pinned_file() -> None:
    assert MODEL_SHA256 == SHIPPED_SHA256
    assert hashlib.sha256(model_path().read_bytes()).hexdigest() == SHIPPED_SHA256


def test_the_converter_reproduces_the_shipped_weights_byte_for_byte() -> None:
    convert = converter()
    data = convert.npz_bytes(convert.net_weights(convert.load_weights(checkpoint_or_skip())))
    assert hashlib.sha256(data).hexdigest() == SHIPPED_SHA256


def test_a_corrupt_model_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    corrupt = tmp_path / "ge2e_speaker_encoder.npz"
    shutil.copyfile(model_path(), corrupt)
    data = bytearray(corrupt.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit in the weights
    corrupt.write_bytes(bytes(data))
    with pytest.raises(ModelHashMismatch, match="fails its sha256 check") as caught:
        SpeakerEncoder.load(corrupt)
    assert str(corrupt) in str(caught.value) and "will not be loaded" in str(caught.value)
    with pytest.raises(ModelNotFound, match="GE2E speaker encoder"):
        SpeakerEncoder.load(tmp_path / "missing.npz")


def test_a_file_of_the_expected_hash_without_the_weights_is_refused(tmp_path: Path) -> None:
    """A path and hash given by the caller: the file must still be the net's weights."""
    with np.load(model_path()) as shipped:
        weights = {name: shipped[name] for name in shipped.files}
    del weights["lstm2.bias"]
    buffer = io.BytesIO()
    np.savez(buffer, **weights)
    truncated = model_path().read_bytes()[:100_000]
    cases = {"lacking.npz": buffer.getvalue(), "truncated.npz": truncated, "text.npz": b"text"}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(EngineError, match="not a GE2E weights file"):
            SpeakerEncoder.load(path, hashlib.sha256(data).hexdigest())


def test_the_encoder_runs_without_onnx_runtime() -> None:
    """The bundle leaves ONNX Runtime out: loading and embedding must not import it."""
    script = (
        "import sys; sys.modules['onnxruntime'] = None\n"  # any import of it now fails
        "import numpy as np\n"
        "from app.server.speakers.encoder import SpeakerEncoder\n"
        "print(SpeakerEncoder.load().embed(np.ones(16000, np.float32)).shape)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(256,)"


def test_embeddings_are_non_negative_unit_vectors_whatever_the_batch(
    encoder: SpeakerEncoder,
) -> None:
    mels = random_mels(4)
    together = encoder.embed_mels(mels)
    assert together.shape == (4, 256) and together.dtype == np.float32
    assert (together >= 0).all()
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    alone = np.concatenate([encoder.embed_mels(mels[i : i + 1]) for i in range(4)])
    np.testing.assert_allclose(alone, together, atol=1e-5)
    assert encoder.embed_mels(np.zeros((0, 160, 40), np.float32)).shape == (0, 256)
    with pytest.raises(ValueError, match="expected"):
        encoder.embed_mels(np.zeros((1, 100, 40), np.float32))


def test_the_numpy_net_computes_resemblyzers_forward_pass(encoder: SpeakerEncoder) -> None:
    weights = converter().load_weights(checkpoint_or_skip())
    mels = np.concatenate([random_mels(2, seed=1), jfk_mels()])
    expected = encoder_forward(weights, mels)
    np.testing.assert_allclose(encoder.embed_mels(mels), expected, atol=1e-5)


def test_the_numpy_net_gives_the_embeddings_of_the_onnx_model_it_replaced(
    encoder: SpeakerEncoder, tmp_path: Path
) -> None:
    """The speaker thresholds were tuned on the ONNX model's embeddings, run by ONNX Runtime."""
    pytest.importorskip("onnx")
    import onnxruntime

    data = build_model(converter().load_weights(checkpoint_or_skip())).SerializeToString()
    assert hashlib.sha256(data).hexdigest() == SHIPPED_ONNX_SHA256  # the very file once shipped
    (tmp_path / "ge2e.onnx").write_bytes(data)
    session = onnxruntime.InferenceSession(
        str(tmp_path / "ge2e.onnx"), providers=["CPUExecutionProvider"]
    )
    mels = np.concatenate([random_mels(3, seed=3), jfk_mels()])
    (expected,) = session.run(None, {"mels": mels})
    np.testing.assert_allclose(encoder.embed_mels(mels), expected, atol=1e-5)
    np.testing.assert_allclose(encoder.embed_mels(mels[:1]), expected[:1], atol=1e-5)


def test_the_numpy_net_matches_torch_when_installed(encoder: SpeakerEncoder) -> None:
    torch = pytest.importorskip("torch")
    checkpoint = checkpoint_or_skip()
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["model_state"]
    lstm = torch.nn.LSTM(40, 256, 3, batch_first=True)
    linear = torch.nn.Linear(256, 256)
    lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
    linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
    mels = np.concatenate([random_mels(2, seed=2), jfk_mels()])
    with torch.no_grad():  # resemblyzer.VoiceEncoder.forward
        _, (hidden, _) = lstm(torch.from_numpy(mels))
        raw = torch.relu(linear(hidden[-1]))
        expected = (raw / torch.norm(raw, dim=1, keepdim=True)).numpy()
    np.testing.assert_allclose(encoder.embed_mels(mels), expected, atol=1e-5)


def speech(speech_dir: Path, item_id: str, segment: int | None = None) -> np.ndarray:
    """One segment of an eval session (its speech span), or a whole single-utterance item."""
    item = manifest(speech_dir)[item_id]
    audio, rate = soundfile.read(str(speech_dir / item["audio"]), dtype="float32")
    assert rate == 16000
    if segment is None:
        return np.asarray(audio)
    span = item["segments"][segment]
    return np.asarray(audio[int(span["speech_start"] * rate) : int(span["speech_end"] * rate)])


def test_two_clips_of_one_speaker_are_closer_than_clips_of_others(
    encoder: SpeakerEncoder, speech_dir: Path
) -> None:
    lj_a = encoder.embed(speech(speech_dir, "pub_ljspeech_session_01", 0))
    lj_b = encoder.embed(speech(speech_dir, "pub_ljspeech_session_01", 3))
    others = [
        encoder.embed(speech(speech_dir, "pub_speechocean_adult_2112", 0)),  # also a woman
        encoder.embed(speech(speech_dir, "pub_commonvoice_01")),
    ]
    same = float(lj_a @ lj_b)
    different = [float(lj @ other) for lj in (lj_a, lj_b) for other in others]
    assert same > max(different) + 0.05, (same, different)


def test_an_utterance_embedding_is_the_unit_mean_of_its_partials(encoder: SpeakerEncoder) -> None:
    partials = encoder.embed_partials(jfk(3.0))
    assert partials.shape == (3, 256)
    embedding = encoder.embed(jfk(3.0))
    np.testing.assert_allclose(embedding, unit_mean(partials), atol=1e-6)
    assert np.linalg.norm(embedding) == pytest.approx(1.0, abs=1e-5)
    assert encoder.embed(jfk(0.5)).shape == (256,)  # half a second: one padded window
    with pytest.raises(ValueError, match="no audio"):
        encoder.embed(np.zeros(0, np.float32))
