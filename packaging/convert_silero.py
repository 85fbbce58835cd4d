"""Extract the Silero VAD v6 weights from faster-whisper's ONNX file into the npz the app ships.

    make vad-model
    (or: pip install onnx && python packaging/convert_silero.py)

The source is `faster_whisper/assets/silero_vad_v6.onnx` in the installed faster-whisper (1.2.1;
Silero VAD is MIT, Copyright (c) 2020-present Silero Team). Only that exact file is accepted
(its sha256 is pinned), and its graph must be the one app/server/asr/silero_net.py computes in
numpy, so the app needs neither onnx nor onnxruntime. `onnx` is a build and test tool only.

The npz keeps each tensor as the graph holds it (shapes and LSTM gate order i, o, f, c), under
a readable name. Its bytes depend only on the weights (fixed zip dates, no compression), so a
rerun reproduces the committed file; pin the sha256 it prints in silero_net.py.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "resources" / "models" / "silero_vad_v6.npz"
SOURCE_NAME = "silero_vad_v6.onnx"
SOURCE_SHA256 = "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2"

# Graph initializer -> (name in the npz, shape).
TENSORS: dict[str, tuple[str, tuple[int, ...]]] = {
    "encoder.feature_extractor.forward_basis_buffer": ("stft_basis", (258, 1, 256)),
    "encoder.conv_layers.0.weight": ("conv0_weight", (128, 129, 3)),
    "encoder.conv_layers.0.bias": ("conv0_bias", (128,)),
    "encoder.conv_layers.1.weight": ("conv1_weight", (64, 128, 3)),
    "encoder.conv_layers.1.bias": ("conv1_bias", (64,)),
    "encoder.conv_layers.2.weight": ("conv2_weight", (64, 64, 3)),
    "encoder.conv_layers.2.bias": ("conv2_bias", (64,)),
    "encoder.conv_layers.3.weight": ("conv3_weight", (128, 64, 3)),
    "encoder.conv_layers.3.bias": ("conv3_bias", (128,)),
    "onnx::LSTM_209": ("lstm_input_weight", (1, 512, 128)),
    "onnx::LSTM_210": ("lstm_recurrent_weight", (1, 512, 128)),
    "onnx::LSTM_211": ("lstm_bias", (1, 1024)),
    "decoder.conv1d.weight": ("decoder_weight", (1, 128, 1)),
    "decoder.conv1d.bias": ("decoder_bias", (1,)),
}
# The node sequence silero_net.py reproduces: reflect pad, STFT as a strided conv, magnitude,
# four conv+relu, one LSTM step per window, relu, 1x1 conv, sigmoid.
GRAPH_OPS = (
    *("Pad", "Unsqueeze", "Conv", "Slice", "Slice", "Pow", "Pow", "Add", "Sqrt"),
    *("Conv", "Relu") * 4,
    *("Transpose", "LSTM", "Squeeze", "Relu", "Transpose", "Conv", "Sigmoid", "Reshape"),
)
CONV_STRIDES = [[128], [1], [2], [2], [1], [1]]  # STFT hop, the encoder's four, the decoder's

Weights = dict[str, npt.NDArray[np.float32]]


class ConversionError(Exception):
    pass


def find_source() -> Path:
    """silero_vad_v6.onnx in the installed faster-whisper (found without importing it)."""
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError("faster-whisper is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / SOURCE_NAME


def verified_source(path: Path | None = None) -> Path:
    path = path or find_source()
    if not path.is_file():
        raise ConversionError(f"{path} is missing")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != SOURCE_SHA256:
        raise ConversionError(f"{path}: sha256 {actual}, expected {SOURCE_SHA256}")
    return path


def read_weights(path: Path) -> Weights:
    """The named tensors of a verified source, after checking its graph is the expected one."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    ops = tuple(node.op_type for node in graph.node)
    if ops != GRAPH_OPS:
        raise ConversionError(f"{path}: unexpected graph {ops}")
    strides = [
        list(onnx.helper.get_attribute_value(attribute))
        for node in graph.node
        if node.op_type == "Conv"
        for attribute in node.attribute
        if attribute.name == "strides"
    ]
    if strides != CONV_STRIDES:
        raise ConversionError(f"{path}: conv strides {strides}, expected {CONV_STRIDES}")
    found = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    weights: Weights = {}
    for source_name, (name, shape) in TENSORS.items():
        array = found.get(source_name)
        if array is None or array.shape != shape or array.dtype != np.float32:
            raise ConversionError(f"{path}: {source_name} is missing or not float32 {shape}")
        weights[name] = np.ascontiguousarray(array)
    return weights


def npz_bytes(weights: Mapping[str, npt.NDArray[np.float32]]) -> bytes:
    """An npz np.load reads, as np.savez writes it but with fixed dates: reproducible bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(weights):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, weights[name], allow_pickle=False)
    return buffer.getvalue()


def convert(source: Path | None = None) -> bytes:
    return npz_bytes(read_weights(verified_source(source)))


def main() -> int:
    try:
        data = convert()
    except ConversionError as exc:
        print(f"convert_silero: {exc}", file=sys.stderr)
        return 1
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(data)
    print(
        f"{OUTPUT.relative_to(ROOT)}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
