"""A smaller ICU data library for the Linux bundle (31 MB -> 9 MB), for packaging/captionist.spec.

Qt's wheel ships ICU's whole data library, but QtCore calls ICU for four things only: casing
(u_strTo*: tables compiled into libicuuc), collation (ucol_*: QCollator, which sorts the file
dialog), time zones (ucal_*) and non-Unicode text codecs (ucnv_*). So the data keeps the core
items, every collation and the time zone rules; it leaves out the trees no Qt call reads
(break iterators, units, currencies, language and region names, transliteration, number
spelling), the legacy codec tables (the app reads and writes UTF-8 only; the algorithmic
codecs such as Latin-1 are code, not data) and time zone names in each language (Qt's
QTimeZone::displayName falls back to "GMT+01:00"; the app never shows one).

The data package is taken out of the library (the `icudt<N>_dat` symbol), filtered with
ICU's own `icupkg` and compiled back into a library of the same soname with `genccode` and
gcc: `apt-get install icu-devtools gcc`. Checked by tests/packaging/test_icu_data.py and, in the
bundle, by the collation check of `captionist --selftest`.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

LIBRARY = re.compile(r"libicudata\.so\.(\d+)$")
# Whole trees no ICU function that Qt calls ever opens.
UNUSED_TREES = ("brkitr/", "curr/", "lang/", "rbnf/", "region/", "translit/", "unit/")
# Of the time zone names, only what the "GMT+01:00" fallback format needs.
KEPT_ZONE_ITEMS = frozenset({"zone/root.res", "zone/res_index.res", "zone/pool.res"})
TOOLS = ("icupkg", "genccode", "gcc", "nm", "strip")


class IcuDataError(Exception):
    pass


def unused(item: str) -> bool:
    """Whether a data item (as `icupkg -l` names it: "coll/de.res", "ibm-943_P15A-2003.cnv")
    is one the bundle leaves out."""
    if item.startswith(UNUSED_TREES) or item.endswith(".cnv"):
        return True
    return item.startswith("zone/") and item not in KEPT_ZONE_ITEMS


def version_of(library: Path) -> str:
    """ "73" for libicudata.so.73."""
    match = LIBRARY.search(library.name)
    if match is None:
        raise IcuDataError(f"{library.name} is not an ICU data library (libicudata.so.<N>)")
    return match.group(1)


def data_package(library: Path, version: str) -> bytes:
    """The bytes of the `icudt<N>_dat` symbol: ICU's common data package."""
    data = library.read_bytes()
    if data[:6] != b"\x7fELF\x02\x01":
        raise IcuDataError(f"{library} is not a 64-bit little-endian ELF library")
    symbol = f"icudt{version}_dat"
    listing = _run(["nm", "-D", "-S", "--defined-only", str(library)], library.parent)
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[3] == symbol:
            address, size = int(fields[0], 16), int(fields[1], 16)
            offset = _file_offset(data, address)
            return data[offset : offset + size]
    raise IcuDataError(f"{library} has no {symbol} symbol")


def _file_offset(elf: bytes, address: int) -> int:
    """Where the loaded `address` lies in the file, from the program headers."""
    (table,) = struct.unpack_from("<Q", elf, 0x20)
    size, count = struct.unpack_from("<HH", elf, 0x36)
    for index in range(count):
        kind, _, offset, virtual, _, file_size, _, _ = struct.unpack_from(
            "<IIQQQQQQ", elf, table + index * size
        )
        if kind == 1 and virtual <= address < virtual + file_size:  # PT_LOAD
            return int(offset + address - virtual)
    raise IcuDataError(f"address {address:#x} lies in no loaded segment")


def filtered_library(library: Path, work: Path) -> Path:
    """A copy of `library` whose data leaves out the unused items, built in `work`."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise IcuDataError(
            f"{', '.join(missing)} not found: apt-get install icu-devtools gcc binutils"
        )
    version = version_of(library)
    folder = work / "icu-data" / library.name  # its own folder: rebuilt from scratch each time
    if folder.is_dir() and not folder.is_symlink():
        shutil.rmtree(folder)
    elif folder.exists() or folder.is_symlink():
        folder.unlink()
    (folder / "filtered").mkdir(parents=True)
    # icupkg names the items inside a package after its file name: it must stay icudt<N>l.dat.
    package = f"icudt{version}l.dat"
    (folder / package).write_bytes(data_package(library, version))
    items = _run(["icupkg", "-l", package], folder).split()
    (folder / "unused.txt").write_text("".join(f"{i}\n" for i in items if unused(i)))
    _run(["icupkg", "-r", "unused.txt", package, f"filtered/{package}"], folder)
    _run(
        ["genccode", "-q", "-e", f"icudt{version}", "-a", "gcc", "-d", ".", package],
        folder / "filtered",
    )
    output = folder / library.name
    soname = f"-Wl,-soname,{library.name}"
    source = f"filtered/icudt{version}l_dat.S"
    _run(["gcc", "-shared", "-nostdlib", soname, "-o", library.name, source], folder)
    _run(["strip", library.name], folder)
    return output


def _run(command: list[str], folder: Path) -> str:
    result = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    if result.returncode != 0:
        raise IcuDataError(f"{' '.join(command)} failed: {result.stderr.strip()[-500:]}")
    return result.stdout


def with_filtered_data(entry: tuple[str, str, str], work: Path) -> tuple[str, str, str]:
    """A PyInstaller binary entry, its source swapped for the filtered library if it is ICU's
    data library."""
    name, source, kind = entry
    if not LIBRARY.search(name):
        return entry
    return (name, str(filtered_library(Path(source), work)), kind)
