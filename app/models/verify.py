"""sha256 checks. A file that fails its hash is never loaded."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from app.errors import ModelHashMismatch, ModelNotFound

_CHUNK = 1 << 20
# (path, size, mtime_ns) -> sha256: a process hashes an unchanged file once.
_memo: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _memo:
        _memo[key] = sha256_of_parts([path])
    return _memo[key]


def sha256_of_parts(paths: Iterable[Path]) -> str:
    """sha256 of the concatenation of `paths`, streamed."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def verified_arrays(path: Path, expected_sha256: str, name: str) -> dict[str, np.ndarray]:
    """The arrays of the .npz file at `path`, read once so that the bytes hashed are the bytes
    loaded; ModelNotFound or ModelHashMismatch (naming `name`) if it is missing or altered,
    ValueError if it is no .npz archive."""
    if not path.is_file():
        raise ModelNotFound(name, [str(path)])
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise ModelHashMismatch(name, str(path), expected_sha256, actual)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a .npz archive: {exc}") from exc
