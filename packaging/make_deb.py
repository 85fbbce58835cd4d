"""Build dist/captionist_<version>_amd64.deb from the one-folder bundle (`make deb`).

    python packaging/make_deb.py [--bundle dist/captionist] [--out dist]

Layout: /opt/captionist (the bundle), /usr/bin/captionist (a symlink into it), the desktop
entry, the AppStream metainfo, the hicolor icons and the manual page under /usr/share, the
licences under /usr/share/doc/captionist. No maintainer scripts: Debian's desktop-file-utils and
hicolor-icon-theme refresh their caches through dpkg triggers on those folders.

Depends: the Debian packages of the system libraries the bundle links to but does not carry.
Every ELF file's NEEDED entries (readelf), less the files inside the bundle, each found with
ldconfig and mapped to the package that owns it with dpkg-query; libc6 gets the newest
GLIBC_ symbol version any file asks for. Only Debian tools: binutils, dpkg.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
import manpage  # noqa: E402 (packaging/manpage.py: captionist(1) from the CLI's parser)

APP_ID = "io.github.captionist.Captionist"
PACKAGE = "captionist"
ARCH = "amd64"
GLIBC_SONAMES = frozenset(
    {
        "libc.so.6",
        "libm.so.6",
        "libmvec.so.1",
        "libdl.so.2",
        "libpthread.so.0",
        "librt.so.1",
        "libresolv.so.2",
        "libutil.so.1",
        "ld-linux-x86-64.so.2",
    }
)
# Libraries a headless build machine may lack (Qt's Wayland plugin links them; PyInstaller
# never bundles them): their Debian packages, for when ldconfig does not find them.
KNOWN_PACKAGES = {
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}
# Not linked, but what the features need: the ALSA `pulse` device through which PortAudio
# captures, `pactl` for the device list (app/audio/devices.py).
RECOMMENDS = ["libasound2-plugins", "pulseaudio-utils"]
# The bundled libfontconfig reads the system's font configuration and needs one font.
EXTRA_DEPENDS = ["fontconfig-config"]
MAINTAINER = "The Captionist developers <captionist@users.noreply.github.com>"
SUMMARY = "Live captions for calls and meetings, offline by default"
DESCRIPTION = """\
Captionist puts live captions on screen while you are in a call or a meeting,
and keeps a transcript you can search and save. It listens to your microphone,
to what your computer plays, or both. Speech recognition runs on this computer
(Whisper tiny.en is included); a cloud provider can be chosen instead.
"""
# What lintian reports about every bundle of this kind, each with the reason it stays.
LINTIAN_OVERRIDES = """\
# A self-contained bundle: Python, Qt and the engine's libraries come with it, in /opt.
captionist: dir-or-file-in-opt
captionist: embedded-library
# Wheels' and CPython's own extension modules, as PyPI and the interpreter ship them.
captionist: shared-library-lacks-prerequisites
captionist: library-not-linked-against-libc
captionist: custom-library-search-path
# numpy's OpenBLAS stays unstripped: strip makes it unloadable (packaging/slim.py).
captionist: unstripped-binary-or-object
# PyInstaller's bootloader.
captionist: hardening-no-pie
"""


def is_elf(path: Path) -> bool:
    if not path.is_file() or path.is_symlink():
        return False
    with path.open("rb") as file:
        return file.read(4) == b"\x7fELF"


def readelf(option: str, path: Path) -> str:
    return subprocess.run(
        ["readelf", option, "-W", str(path)], capture_output=True, text=True, check=True
    ).stdout


def needed(path: Path) -> set[str]:
    """The NEEDED entries of an ELF file's dynamic section."""
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf("-d", path)))


def glibc_versions(path: Path) -> set[tuple[int, ...]]:
    """The GLIBC_x.y symbol versions an ELF file asks for (its version needs)."""
    text = readelf("-V", path)
    needs = text.split("Version needs section", 1)[1] if "Version needs section" in text else ""
    versions = re.findall(r"GLIBC_(\d+(?:\.\d+)+)", needs)
    return {tuple(int(n) for n in version.split(".")) for version in versions}


def system_path(soname: str, ldconfig_output: str) -> str | None:
    """Where the loader finds the x86-64 `soname` on this machine (`ldconfig -p`)."""
    pattern = rf"^\s*{re.escape(soname)} \(([^)]*)\) => (\S+)$"
    for match in re.finditer(pattern, ldconfig_output, re.M):
        if "x86-64" in match.group(1):
            return match.group(2)
    return None


def owning_package(path: str) -> str | None:
    """The installed Debian package that ships `path` (merged /usr: either spelling)."""
    candidates = {path, path.removeprefix("/usr")}
    candidates |= {"/usr" + p for p in list(candidates) if not p.startswith("/usr")}
    for candidate in sorted(candidates):
        result = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        if result.returncode == 0:
            return result.stdout.split(":", 1)[0].strip()
    return None


def depends(
    needs: Mapping[str, set[str]],
    bundled: set[str],
    package_of: Mapping[str, str | None],
    glibc: tuple[int, ...],
) -> list[str]:
    """The Depends: entries. `needs` maps each ELF file to its NEEDED names, `bundled` holds
    the file names inside the bundle, `package_of` the package owning each system library.
    Raises ValueError naming any library that is neither bundled nor owned by a package."""
    missing: dict[str, list[str]] = {}
    packages: set[str] = set(EXTRA_DEPENDS)
    for file, names in sorted(needs.items()):
        for soname in sorted(names - bundled):
            if soname in GLIBC_SONAMES:
                continue
            package = package_of.get(soname) or KNOWN_PACKAGES.get(soname)
            if package is None:
                missing.setdefault(soname, []).append(file)
            else:
                packages.add(package)
    if missing:
        lines = [f"{name} (needed by {', '.join(files[:3])})" for name, files in missing.items()]
        raise ValueError("no Debian package found for: " + "; ".join(lines))
    libc = f"libc6 (>= {'.'.join(map(str, glibc))})" if glibc else "libc6"
    return [libc, *sorted(packages)]


def bundle_depends(bundle: Path) -> list[str]:
    elves = [p for p in sorted(bundle.rglob("*")) if is_elf(p)]
    needs = {str(p.relative_to(bundle)): needed(p) for p in elves}
    bundled = {p.name for p in bundle.rglob("*") if p.is_file()}
    ldconfig = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    package_of: dict[str, str | None] = {}
    for soname in set().union(*needs.values()) - bundled - GLIBC_SONAMES:
        path = system_path(soname, ldconfig)
        package_of[soname] = owning_package(path) if path else None
    glibc = max((v for p in elves for v in glibc_versions(p)), default=())
    return depends(needs, bundled, package_of, glibc)


def control(version: str, depends_on: Iterable[str], installed_kib: int) -> str:
    description = "\n".join(" " + line if line else " ." for line in DESCRIPTION.splitlines())
    return (
        f"Package: {PACKAGE}\n"
        f"Version: {version}\n"
        f"Architecture: {ARCH}\n"
        f"Maintainer: {MAINTAINER}\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(depends_on)}\n"
        f"Recommends: {', '.join(RECOMMENDS)}\n"
        "Section: sound\n"
        "Priority: optional\n"
        "Homepage: https://github.com/captionist/captionist\n"
        f"Description: {SUMMARY}\n{description}\n"
    )


def app_version() -> str:
    text = (ROOT / "app" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if match is None:
        raise ValueError("app/__init__.py has no __version__")
    return match.group(1)


def install(source: Path, target: Path, mode: int = 0o644) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def stage(bundle: Path, root: Path) -> None:
    """The package's files under `root`, as they will be installed."""
    shutil.copytree(bundle, root / "opt" / PACKAGE, symlinks=True)
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "usr" / "bin" / PACKAGE).symlink_to(f"/opt/{PACKAGE}/{PACKAGE}")
    share = root / "usr" / "share"
    linux = ROOT / "packaging" / "linux"
    install(linux / f"{APP_ID}.desktop", share / "applications" / f"{APP_ID}.desktop")
    install(linux / f"{APP_ID}.metainfo.xml", share / "metainfo" / f"{APP_ID}.metainfo.xml")
    icons = ROOT / "resources" / "icons" / "hicolor"
    for icon in sorted(icons.glob(f"*/apps/{APP_ID}.*")):
        install(icon, share / "icons" / "hicolor" / icon.relative_to(icons))
    doc = share / "doc" / PACKAGE
    install(ROOT / "resources" / "licenses" / "THIRD-PARTY.md", doc / "THIRD-PARTY.md")
    releases = metainfo_releases(linux / f"{APP_ID}.metainfo.xml")
    year = releases[0][1][:4] if releases else "2026"
    (doc / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: Captionist\n\n"
        f"Files: *\nCopyright: {year} The Captionist developers\nLicense: MIT\n"
        " The parts bundled in /opt/captionist and their licences are listed in\n"
        " /usr/share/doc/captionist/THIRD-PARTY.md.\n"
    )
    (doc / "changelog.gz").write_bytes(gzip.compress(changelog(releases).encode(), mtime=0))
    page = share / "man" / "man1" / f"{PACKAGE}.1.gz"
    page.parent.mkdir(parents=True)
    date = releases[0][1] if releases else "2026-12-01"
    page.write_bytes(
        gzip.compress(manpage.captionist_manpage(app_version(), date).encode(), mtime=0)
    )
    overrides = share / "lintian" / "overrides" / PACKAGE
    overrides.parent.mkdir(parents=True)
    overrides.write_text(LINTIAN_OVERRIDES)
    # dpkg keeps modes as staged. Only the bundle's executable is one; shared libraries and
    # data need no execute bit (wheels ship some with it).
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        path.chmod(0o755 if path.is_dir() or path == root / "opt" / PACKAGE / PACKAGE else 0o644)


def metainfo_releases(metainfo: Path) -> list[tuple[str, str, str]]:
    """(version, date, text) of each release in the AppStream metainfo, newest first."""
    releases = ElementTree.parse(metainfo).getroot().iter("release")
    return [
        (r.get("version", ""), r.get("date", ""), " ".join("".join(r.itertext()).split()))
        for r in releases
    ]


def changelog(releases: list[tuple[str, str, str]]) -> str:
    """A Debian changelog from the metainfo's release notes."""
    entries = []
    for version, day, text in releases:
        when = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
        lines = textwrap.wrap(text, 76, initial_indent="  * ", subsequent_indent="    ")
        entries.append(
            f"{PACKAGE} ({version}) stable; urgency=medium\n\n"
            + "\n".join(lines)
            + f"\n\n -- {MAINTAINER}  {format_datetime(when)}\n"
        )
    return "\n".join(entries)


def installed_size_kib(root: Path) -> int:
    """As dpkg-gencontrol counts it: each file's size in KiB, rounded up."""
    return sum((p.lstat().st_size + 1023) // 1024 for p in root.rglob("*"))


def build(bundle: Path, out: Path) -> Path:
    if not (bundle / PACKAGE).is_file():
        raise SystemExit(f"{bundle / PACKAGE} not found: run `make bundle` first")
    version = app_version()
    depends_on = bundle_depends(bundle)
    deb = out / f"{PACKAGE}_{version}_{ARCH}.deb"
    with tempfile.TemporaryDirectory(prefix="captionist-deb-", dir=out) as work:
        root = Path(work) / "root"
        stage(bundle, root)
        (root / "DEBIAN").mkdir(mode=0o755)
        (root / "DEBIAN" / "control").write_text(
            control(version, depends_on, installed_size_kib(root))
        )
        (root / "DEBIAN" / "control").chmod(0o644)
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(deb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    print(f"Depends: {', '.join(depends_on)}")
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / PACKAGE)
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    deb = build(args.bundle.resolve(), args.out.resolve())
    print(f"{deb}: {deb.stat().st_size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
