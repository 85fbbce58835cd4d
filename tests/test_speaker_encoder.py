"""The shipped GE2E speaker encoder: its hash, its maths against Resemblyzer's, and its use."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from app.errors import ModelHashMismatch, ModelNotFound
from app.resources import SAMPLE, resources_dir
from app.server.speakers.encoder import MODEL_SHA256, SpeakerEncoder, model_path, unit_mean
from app.server.speakers.features import partial_mels
from tests.ge2e_reference import checkpoint_or_skip, converter, encoder_forward
from tests.streaming import manifest

SHIPPED_SHA256 = "f600ce576f0e93d35aa31528b072fd27ccbd0afec6b20fcb61b2692362c4d1b9"


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


def test_a_corrupt_model_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    corrupt = tmp_path / "ge2e_speaker_encoder.onnx"
    shutil.copyfile(model_path(), corrupt)
    data = bytearray(corrupt.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit in the weights
    corrupt.write_bytes(bytes(data))
    with pytest.raises(ModelHashMismatch, match="fails its sha256 check") as caught:
        SpeakerEncoder.load(corrupt)
    assert str(corrupt) in str(caught.value) and "will not be loaded" in str(caught.value)
    with pytest.raises(ModelNotFound, match="GE2E speaker encoder"):
        SpeakerEncoder.load(tmp_path / "missing.onnx")


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


def test_the_onnx_model_computes_resemblyzers_forward_pass(encoder: SpeakerEncoder) -> None:
    weights = converter().load_weights(checkpoint_or_skip())
    mels = np.concatenate([random_mels(2, seed=1), jfk_mels()])
    expected = encoder_forward(weights, mels)
    np.testing.assert_allclose(encoder.embed_mels(mels), expected, atol=1e-4)


def test_the_onnx_model_matches_torch_when_installed(encoder: SpeakerEncoder) -> None:
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
    np.testing.assert_allclose(encoder.embed_mels(mels), expected, atol=1e-4)


def speech(eval_dir: Path, item_id: str, segment: int | None = None) -> np.ndarray:
    """One segment of an eval session (its speech span), or a whole single-utterance item."""
    item = manifest(eval_dir)[item_id]
    audio, rate = soundfile.read(str(eval_dir / item["audio"]), dtype="float32")
    assert rate == 16000
    if segment is None:
        return np.asarray(audio)
    span = item["segments"][segment]
    return np.asarray(audio[int(span["speech_start"] * rate) : int(span["speech_end"] * rate)])


def test_two_clips_of_one_speaker_are_closer_than_clips_of_others(
    encoder: SpeakerEncoder, eval_dir: Path
) -> None:
    lj_a = encoder.embed(speech(eval_dir, "pub_ljspeech_session_01", 0))
    lj_b = encoder.embed(speech(eval_dir, "pub_ljspeech_session_01", 3))
    others = [
        encoder.embed(speech(eval_dir, "pub_speechocean_adult_2112", 0)),  # also a woman
        encoder.embed(speech(eval_dir, "pub_commonvoice_01")),
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
