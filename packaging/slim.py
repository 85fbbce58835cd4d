"""What the bundle leaves out, for packaging/captionist.spec (tested in
tests/packaging/test_bundle_slim.py).

The app runs QtCore/QtGui/QtWidgets, the CTranslate2 engine, libsndfile and PortAudio (its two
small networks, the VAD and the speaker encoder, run in numpy). Left out: Python packages only
reached through imports the app never makes, Qt plugins for platforms and features it never
uses, Qt's translations, and then every library that only those plugins needed.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

# A PyInstaller TOC entry: (name in the bundle, source path, type code).
Entry = tuple[str, str, str]

EXCLUDED_MODULES = [
    *["tkinter", "matplotlib", "IPython", "pytest", "hypothesis", "jiwer"],
    # PyAV (FFmpeg, ~100 MB): only faster-whisper's decode_audio uses it, for what libsndfile
    # cannot read (M4A/AAC, video); app/audio/file_source.py says so and how to convert.
    "av",
    # huggingface_hub and what it pulls in (httpx, pydantic, rich, pygments, yaml, tqdm...):
    # only WhisperModel's downloads use it; app/models/download.py fetches by plain HTTPS.
    *["huggingface_hub", "hf_xet", "tqdm", "pydantic", "pydantic_core", "yaml", "rich"],
    *["pygments", "markdown_it", "fsspec", "httpx2", "httpcore2"],
    # ONNX Runtime (35 MB): faster-whisper's VAD would import it, but the app runs the Silero VAD
    # and the speaker encoder in numpy (app/server/asr/silero_net.py, speakers/ge2e_net.py).
    "onnxruntime",
    # Reached only through optional imports of the above (pydantic's mypy plugin, ONNX
    # Runtime's model tools), never by the app.
    *["mypy", "psutil"],
]

# Whole plugin folders: embedded-device input and EGL back ends, network reachability, TLS
# (QtNetwork's: the app uses only its local sockets, app/ui/single_instance.py; Python's ssl
# serves the app's own connections).
UNUSED_QT_PLUGIN_TYPES = frozenset(
    {"egldeviceintegrations", "generic", "networkinformation", "tls"}
)
UNUSED_QT_PLUGINS = frozenset(
    {
        # Framebuffer, EGLFS, VNC, Vulkan-display and minimal platforms: kiosks and tests.
        # Kept: xcb, wayland, offscreen (and windows/cocoa on those systems).
        *(
            ("platforms", name)
            for name in ("qeglfs", "qlinuxfb", "qminimal", "qminimalegl", "qvkkhrdisplay", "qvnc")
        ),
        # Raster formats: the app shows text and one SVG icon (kept: qsvg and the SVG engine).
        *(
            ("imageformats", name)
            for name in ("qgif", "qicns", "qico", "qjpeg", "qtga", "qtiff", "qwbmp", "qwebp")
        ),
        ("imageformats", "qpdf"),
        # The GTK3 theme loads the system's GTK3 against the bundle's own cairo and pango, and
        # would make GTK3 a dependency of the .deb. Qt's GNOME theme and the portal one remain.
        ("platformthemes", "qgtk3"),
    }
)
# Qt's own translations: the app installs no QTranslator (its text is English).
UNUSED_DATA_PREFIXES = ("PySide6/Qt/translations/",)
# Part of the C library, which must be the system's own: PyInstaller copies glibc's vector maths
# library (libsndfile links it), but that copy needs GLIBC_PRIVATE symbols of the exact glibc
# it came from (and GLIBC_ABI_DT_RELR: glibc 2.36+), so elsewhere it would not load.
SYSTEM_LIBRARIES = frozenset({"libmvec.so.1"})


def qt_plugin(name: str) -> tuple[str, str] | None:
    """("platforms", "qxcb") for PySide6/Qt/plugins/platforms/libqxcb.so (qxcb.dll, ...)."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if parts[:3] != ("PySide6", "Qt", "plugins") or len(parts) != 5:
        return None
    stem = parts[4].split(".")[0]
    return parts[3], stem.removeprefix("lib")


def unused(name: str) -> bool:
    if basename(name) in SYSTEM_LIBRARIES:
        return True
    plugin = qt_plugin(name)
    if plugin is not None and (plugin[0] in UNUSED_QT_PLUGIN_TYPES or plugin in UNUSED_QT_PLUGINS):
        return True
    return name.replace("\\", "/").startswith(UNUSED_DATA_PREFIXES)


def basename(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).name


def prune(
    binaries: Iterable[Entry], imports: Callable[[str], set[str]]
) -> tuple[list[Entry], list[str]]:
    """The binaries without the unused ones, nor the libraries that only those needed
    (directly or through each other); `imports(source)` names what a binary links to. A library
    no dropped binary linked to stays, whoever loads it (ctypes, dlopen). Returns the kept
    entries and the names dropped."""
    kept = list(binaries)
    links = {entry[0]: {basename(n) for n in imports(entry[1])} for entry in kept}
    dropped = [entry for entry in kept if unused(entry[0])]
    orphan_candidates: set[str] = set()
    while dropped:
        names = {entry[0] for entry in dropped}
        kept = [entry for entry in kept if entry[0] not in names]
        for name in names:
            orphan_candidates |= links[name]
        still_linked = set().union(*(links[entry[0]] for entry in kept))
        dropped = [
            entry
            for entry in kept
            if basename(entry[0]) in orphan_candidates and basename(entry[0]) not in still_linked
        ]
    kept_names = {entry[0] for entry in kept}
    return kept, sorted(name for name in links if name not in kept_names)


def without_unused_data(datas: Iterable[Entry]) -> list[Entry]:
    return [entry for entry in datas if not unused(entry[0])]


def loadable(path: Path) -> bool:
    """Whether every PT_LOAD segment of a 64-bit little-endian ELF file is aligned as the
    loader demands. `strip` breaks this on some libraries that auditwheel's patchelf rewrote
    (numpy's OpenBLAS: "ELF load command address/offset not page-aligned")."""
    data = path.read_bytes()
    if data[:6] != b"\x7fELF\x02\x01":
        return False
    (table,) = struct.unpack_from("<Q", data, 0x20)
    size, count = struct.unpack_from("<HH", data, 0x36)
    for index in range(count):
        kind, _, offset, address, _, _, _, align = struct.unpack_from(
            "<IIQQQQQQ", data, table + index * size
        )
        if kind == 1 and align > 1 and (address - offset) % align:
            return False
    return True


def stripped(entry: Entry, cache: Path) -> Entry:
    """The entry with its source replaced by a copy without symbols and debug info (CTranslate2's
    extension carries 66 MB of debug info, libpython 17 MB), unless the copy would not load or
    saves nothing."""
    name, source, kind = entry
    original = Path(source)
    if not original.is_file() or not loadable(original):
        return entry
    # A FIPS checksum beside the library would no longer match (PyInstaller skips these too).
    folder, base = original.parent, original.name
    if any((folder / n).exists() for n in (f".{base}.hmac", f"{base}.hmac", f"{base}.chk")):
        return entry
    copy = cache / name
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(original, copy)
    result = subprocess.run(["strip", str(copy)], capture_output=True)
    smaller = copy.stat().st_size < original.stat().st_size
    if result.returncode != 0 or not loadable(copy) or not smaller:
        copy.unlink()
        return entry
    copy.chmod(original.stat().st_mode)
    return (name, str(copy), kind)
