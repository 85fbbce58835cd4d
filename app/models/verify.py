"""sha256 checks. A file that fails its hash is never loaded."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

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
