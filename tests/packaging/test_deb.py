"""`make deb` (packaging/make_deb.py): Depends: from the bundle's ELF files, the control file,
the installed layout, and a real dpkg-deb build of a two-file bundle. The real package is
installed, self-tested, validated and removed by .ci/run."""

from __future__ import annotations

import _ctypes
import gzip
import shutil
import subprocess
from configparser import ConfigParser
from pathlib import Path
from types import ModuleType
from xml.etree import ElementTree

import pytest

from tests.conftest import ROOT
from tests.packaging_scripts import packaging_script

APP_ID = "io.github.captionist.Captionist"
REAL_DEB = sorted((ROOT / "dist").glob("captionist_*_amd64.deb"))


def load_make_deb() -> ModuleType:
    return packaging_script("make_deb")


make_deb = load_make_deb()


def needs_tools(*names: str) -> None:
    for name in names:
        if shutil.which(name) is None:
            pytest.skip(f"{name} is not installed")


def test_depends_lists_the_packages_of_libraries_the_bundle_does_not_carry() -> None:
    needs = {
        "_internal/PySide6/Qt/lib/libQt6Gui.so.6": {"libEGL.so.1", "libQt6Core.so.6", "libc.so.6"},
        "_internal/PySide6/Qt/lib/libQt6Core.so.6": {"libm.so.6", "ld-linux-x86-64.so.2"},
        "_internal/PySide6/Qt/plugins/platforms/libqwayland.so": {"libwayland-cursor.so.0"},
        "_internal/libportaudio.so.2": {"libasound.so.2"},
        "_internal/libasound.so.2": {"libpthread.so.0"},
    }
    bundled = {"libQt6Core.so.6", "libQt6Gui.so.6", "libqwayland.so"}
    bundled |= {"libportaudio.so.2", "libasound.so.2"}
    # libwayland-cursor is not on this machine: the known table names its package.
    package_of = {"libEGL.so.1": "libegl1", "libwayland-cursor.so.0": None}
    assert make_deb.depends(needs, bundled, package_of, (2, 34)) == [
        "libc6 (>= 2.34)",
        "fontconfig-config",
        "libegl1",
        "libwayland-cursor0",
    ]


def test_a_library_with_no_package_stops_the_build_naming_it_and_who_needs_it() -> None:
    needs = {"_internal/libfoo.so": {"libmystery.so.3"}}
    with pytest.raises(ValueError, match=r"libmystery\.so\.3 \(needed by _internal/libfoo\.so\)"):
        make_deb.depends(needs, {"libfoo.so"}, {"libmystery.so.3": None}, (2, 17))


def test_needed_and_glibc_versions_read_a_real_elf_file() -> None:
    needs_tools("readelf")
    extension = Path(_ctypes.__file__)
    assert "libc.so.6" in make_deb.needed(extension)
    assert any(name.startswith("libffi.so") for name in make_deb.needed(extension))
    versions = make_deb.glibc_versions(extension)
    assert versions and all(v[0] == 2 for v in versions)


def test_system_path_reads_ldconfig_and_prefers_x86_64() -> None:
    ldconfig = (
        "123 libs found in cache `/etc/ld.so.cache'\n"
        "\tlibEGL.so.1 (libc6) => /usr/lib/i386-linux-gnu/libEGL.so.1\n"
        "\tlibEGL.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libEGL.so.1\n"
        "\tlibEGL_mesa.so.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libEGL_mesa.so.0\n"
    )
    assert make_deb.system_path("libEGL.so.1", ldconfig) == "/lib/x86_64-linux-gnu/libEGL.so.1"
    assert make_deb.system_path("libGL.so.1", ldconfig) is None


def test_control_file_fields_and_description_lines() -> None:
    text = make_deb.control("1.2.3", ["libc6 (>= 2.36)", "libegl1"], 4242)
    fields = dict(
        line.split(": ", 1) for line in text.splitlines() if line and not line.startswith(" ")
    )
    assert fields["Package"] == "captionist" and fields["Version"] == "1.2.3"
    assert fields["Architecture"] == "amd64" and fields["Installed-Size"] == "4242"
    assert fields["Depends"] == "libc6 (>= 2.36), libegl1"
    assert fields["Recommends"] == "libasound2-plugins, pulseaudio-utils"
    body = [line for line in text.splitlines() if line.startswith(" ")]
    assert body and all(len(line) <= 80 for line in body)
    assert text.endswith("\n") and not text.endswith("\n\n")


def fake_bundle(folder: Path) -> Path:
    """Two real ELF files: an executable that needs libc, an extension that needs libffi."""
    bundle = folder / "captionist"
    (bundle / "_internal").mkdir(parents=True)
    shutil.copy(shutil.which("true") or "/bin/true", bundle / "captionist")
    shutil.copy(_ctypes.__file__, bundle / "_internal" / "_ctypes.so")
    (bundle / "_internal" / "_ctypes.so").chmod(0o755)  # as wheels ship some libraries
    (bundle / "_internal" / "data.txt").write_text("x")
    return bundle


def test_stage_lays_out_opt_usr_bin_desktop_entry_metainfo_icons_and_docs(tmp_path: Path) -> None:
    root = tmp_path / "root"
    make_deb.stage(fake_bundle(tmp_path), root)
    opt = root / "opt" / "captionist"
    assert (opt / "captionist").stat().st_mode & 0o777 == 0o755
    assert (opt / "_internal" / "_ctypes.so").stat().st_mode & 0o777 == 0o644
    assert (root / "usr/bin/captionist").readlink() == Path("/opt/captionist/captionist")
    share = root / "usr" / "share"
    assert (share / f"applications/{APP_ID}.desktop").is_file()
    assert (share / f"metainfo/{APP_ID}.metainfo.xml").is_file()
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        assert (share / f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png").is_file(), size
    assert (share / f"icons/hicolor/scalable/apps/{APP_ID}.svg").is_file()
    doc = share / "doc" / "captionist"
    assert "License: MIT" in (doc / "copyright").read_text()
    log = gzip.decompress((doc / "changelog.gz").read_bytes()).decode()
    assert log.startswith("captionist (") and "\n -- The Captionist developers <" in log
    assert "dir-or-file-in-opt" in (share / "lintian/overrides/captionist").read_text()
    page = gzip.decompress((share / "man/man1/captionist.1.gz").read_bytes()).decode()
    assert page.startswith(".TH CAPTIONIST 1 ")


def test_desktop_entry_and_metainfo_name_the_same_app_command_and_icon() -> None:
    desktop = ConfigParser(interpolation=None)
    desktop.optionxform = str  # type: ignore[assignment,method-assign]
    desktop.read(ROOT / "packaging/linux" / f"{APP_ID}.desktop")
    entry = desktop["Desktop Entry"]
    assert entry["Exec"].split()[0] == "captionist"  # /usr/bin/captionist from the package
    assert entry["Icon"] == APP_ID
    metainfo = ElementTree.parse(ROOT / "packaging/linux" / f"{APP_ID}.metainfo.xml").getroot()
    assert metainfo.findtext("id") == APP_ID
    assert metainfo.findtext("launchable") == f"{APP_ID}.desktop"
    assert metainfo.findtext("provides/binary") == "captionist"


def test_build_makes_a_deb_whose_depends_come_from_its_elf_files(tmp_path: Path) -> None:
    needs_tools("readelf", "dpkg-deb", "dpkg-query", "ldconfig")
    bundle = fake_bundle(tmp_path)
    deb = make_deb.build(bundle, tmp_path)
    assert deb.name == f"captionist_{make_deb.app_version()}_amd64.deb"
    depends = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert depends.startswith("libc6 (>= 2.")
    assert "libffi" in depends, depends  # _ctypes links libffi, which the bundle lacks
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    assert "./opt/captionist/_internal/_ctypes.so" in listing
    assert "./usr/bin/captionist -> /opt/captionist/captionist" in listing
    assert all("root/root" in line for line in listing.splitlines())  # --root-owner-group


@pytest.mark.skipif(not REAL_DEB, reason="run `make bundle deb` first")
def test_the_real_package_depends_on_the_graphics_stack_and_carries_portaudio() -> None:
    deb = str(REAL_DEB[-1])
    depends = subprocess.run(
        ["dpkg-deb", "-f", deb, "Depends"], capture_output=True, text=True, check=True
    ).stdout
    for package in ("libc6 (>= 2.", "libegl1", "libgl1", "libxcb1", "libwayland-client0"):
        assert package in depends, depends
    assert "libportaudio2" not in depends  # the bundle carries it (sounddevice's hook)
    listing = subprocess.run(["dpkg-deb", "-c", deb], capture_output=True, text=True).stdout
    assert "./opt/captionist/_internal/libportaudio.so.2" in listing
