"""Find, verify and install models.

Sources, in order: the user cache (joined packages and downloads), then installed PyPI data
packages, located through importlib.metadata and never imported. A local folder given as the
model name is used as it is. Every pinned file is hashed before a model is handed out.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app import APP_NAME
from app.errors import ModelError, ModelHashMismatch, ModelNotFound
from app.models.download import HF_ENDPOINT, Progress, download_file, hf_url
from app.models.registry import KNOWN_MODELS, ModelSpec, PackagedFile
from app.models.verify import sha256_of, sha256_of_parts

REQUIRED_FILES = ("model.bin", "config.json")
DistributionFinder = Callable[[str], importlib.metadata.Distribution]


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: Path
    source: str
    multilingual: bool


def app_cache_dir() -> Path:
    """The user cache directory (CAPTIONIST_CACHE_DIR overrides it)."""
    override = os.environ.get("CAPTIONIST_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME))


def default_cache_dir() -> Path:
    return app_cache_dir() / "models"


class ModelStore:
    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        hf_endpoint: str | None = None,
        find_distribution: DistributionFinder = importlib.metadata.distribution,
        specs: Mapping[str, ModelSpec] = KNOWN_MODELS,
    ) -> None:
        self.specs = specs
        self.cache_dir = cache_dir or default_cache_dir()
        self.hf_endpoint = hf_endpoint or os.environ.get("CAPTIONIST_HF_ENDPOINT", HF_ENDPOINT)
        self._find_distribution = find_distribution

    # -- locating ------------------------------------------------------------------------
    def _cached_folder(self, spec: ModelSpec) -> Path:
        return self.cache_dir / spec.name

    def _packaged_parts(self, packaged: PackagedFile) -> list[Path] | None:
        paths = []
        for dist_name, inner in packaged.parts:
            try:
                dist = self._find_distribution(dist_name)
            except importlib.metadata.PackageNotFoundError:
                return None
            path = Path(str(dist.locate_file(inner)))
            if not path.is_file():
                return None
            paths.append(path)
        return paths

    def _verify_folder(self, spec: ModelSpec, folder: Path) -> None:
        for model_file in spec.files:
            actual = sha256_of(folder / model_file.name)
            if actual != model_file.sha256:
                raise ModelHashMismatch(
                    spec.name, str(folder / model_file.name), model_file.sha256, actual
                )

    def _from_cache(self, spec: ModelSpec) -> ResolvedModel | None:
        folder = self._cached_folder(spec)
        if not all((folder / f.name).is_file() for f in spec.files):
            return None
        self._verify_folder(spec, folder)
        return ResolvedModel(spec.name, folder, f"cache {folder}", spec.multilingual)

    def _from_packages(self, spec: ModelSpec) -> ResolvedModel | None:
        """Use packaged files in place when each is one part in one folder; else None."""
        if not spec.packaged:
            return None
        located = {p.name: self._packaged_parts(p) for p in spec.packaged}
        if any(parts is None for parts in located.values()):
            return None
        if any(len(parts or []) != 1 for parts in located.values()):
            return None  # split files: `install` joins them into the cache
        folders = {parts[0].parent for parts in located.values() if parts}
        if len(folders) != 1:
            return None
        folder = folders.pop()
        self._verify_folder(spec, folder)
        dists = ", ".join(spec.distributions)
        return ResolvedModel(spec.name, folder, f"package {dists}", spec.multilingual)

    def packages_present(self, spec: ModelSpec) -> bool:
        return bool(spec.packaged) and all(
            self._packaged_parts(p) is not None for p in spec.packaged
        )

    def resolve(self, name: str) -> ResolvedModel:
        """A verified, loadable model folder for a model name or a local folder path."""
        spec = self.specs.get(name)
        if spec is None:
            return self._resolve_folder(name)
        tried: list[str] = []
        mismatch: ModelError | None = None
        for source in (self._from_cache, self._from_packages):
            try:
                found = source(spec)
            except ModelHashMismatch as exc:
                mismatch = mismatch or exc
                tried.append(str(exc))
                continue
            if found is not None:
                return found
        if self.packages_present(spec):
            return self.install(name)
        if mismatch is not None:
            raise mismatch
        tried.append(f"not in {self._cached_folder(spec)}")
        if spec.distributions:
            tried.append("packages " + " + ".join(spec.distributions) + " not installed")
        tried.append(f"run: captionist models install {name}")
        raise ModelNotFound(name, tried)

    def _resolve_folder(self, name: str) -> ResolvedModel:
        folder = Path(name).expanduser()
        if not folder.is_dir():
            known = ", ".join(self.specs)
            raise ModelNotFound(name, [f"not a known model ({known}) nor a folder"])
        missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
        if missing:
            raise ModelNotFound(name, [f"folder lacks {', '.join(missing)}"])
        multilingual = not folder.name.endswith(".en")
        return ResolvedModel(folder.name, folder.resolve(), f"folder {folder}", multilingual)

    # -- installing ----------------------------------------------------------------------
    def install(self, name: str, progress: Progress | None = None) -> ResolvedModel:
        """Install into the cache: join packaged parts when present, else download."""
        spec = self.specs.get(name)
        if spec is None:
            raise ModelNotFound(name, [f"known models: {', '.join(self.specs)}"])
        folder = self._cached_folder(spec)
        folder.mkdir(parents=True, exist_ok=True)
        if self.packages_present(spec):
            for packaged in spec.packaged:
                self._join_packaged(spec, packaged, folder, progress)
        else:
            for model_file in spec.files:
                dest = folder / model_file.name
                if dest.is_file() and sha256_of(dest) == model_file.sha256:
                    continue
                url = hf_url(self.hf_endpoint, spec.hf_repo, spec.hf_revision, model_file.name)
                download_file(
                    url,
                    dest,
                    model=spec.name,
                    expected_sha256=model_file.sha256,
                    expected_size=model_file.size,
                    progress=progress,
                )
        found = self._from_cache(spec)
        assert found is not None
        return found

    def _join_packaged(
        self, spec: ModelSpec, packaged: PackagedFile, folder: Path, progress: Progress | None
    ) -> None:
        expected = spec.file(packaged.name)
        dest = folder / packaged.name
        if dest.is_file() and sha256_of(dest) == expected.sha256:
            return
        parts = self._packaged_parts(packaged)
        assert parts is not None
        actual = sha256_of_parts(parts)
        if actual != expected.sha256:
            raise ModelHashMismatch(
                spec.name, " + ".join(str(p) for p in parts), expected.sha256, actual
            )
        partial = dest.with_name(dest.name + ".part")
        done = 0
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
                done += part.stat().st_size
                if progress is not None:
                    progress(packaged.name, done, expected.size)
        if sha256_of_parts([partial]) != expected.sha256:
            partial.unlink(missing_ok=True)
            raise ModelHashMismatch(spec.name, str(dest), expected.sha256, "changed while copying")
        os.replace(partial, dest)

    # -- reporting -----------------------------------------------------------------------
    def verify(self, name: str) -> ResolvedModel:
        """Hash every file of an installed model; raises on the first bad one."""
        return self.resolve(name)

    def installed_source(self, spec: ModelSpec) -> str | None:
        """Where a known model would load from, without hashing; None if nowhere."""
        if all((self._cached_folder(spec) / f.name).is_file() for f in spec.files):
            return f"cache {self._cached_folder(spec)}"
        if self.packages_present(spec):
            return "package " + " + ".join(spec.distributions)
        return None
