"""The bundle's smaller ICU data library (packaging/icu_data.py): built from the real one in
Qt's wheel, it still gives QtCore the collation the file dialog sorts with, and drops the rest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import PySide6
import pytest

from tests.conftest import ROOT
from tests.packaging.test_packaging import tool
from tests.packaging_scripts import packaging_script


def load_icu_data() -> ModuleType:
    return packaging_script("icu_data")


icu_data = load_icu_data()
QT_ICU = sorted((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))

# Sorts as the file dialog does (QFileSystemModel: numeric mode) and by a language's rules.
SORT_CHECK = """
import functools, json
from PySide6.QtCore import QCollator, QLocale, QStringDecoder
def order(locale, words, numeric=False):
    collator = QCollator(QLocale(locale))
    collator.setNumericMode(numeric)
    return sorted(words, key=functools.cmp_to_key(collator.compare))
print(json.dumps({
    "de": order("de_DE", ["zebra", "Ödem", "apple", "Äpfel", "ok"]),
    "sv": order("sv_SE", ["zebra", "Ödem", "apple", "Äpfel", "ok"]),
    "files": order("en_US", ["take 10.txt", "Take 2.txt", "take 1.txt"], numeric=True),
    "utf8": QStringDecoder("UTF-8").isValid(),
}))
"""


def test_only_trees_and_tables_qt_never_reads_are_left_out() -> None:
    for item in ("brkitr/word.brk", "unit/de.res", "lang/fr.res", "ibm-943_P15A-2003.cnv"):
        assert icu_data.unused(item), item
    for item in ("coll/de.res", "coll/ucadata.icu", "cnvalias.icu", "zoneinfo64.res", "de.res"):
        assert not icu_data.unused(item), item
    assert icu_data.unused("zone/de.res")
    assert not icu_data.unused("zone/root.res")  # the "GMT+01:00" format


def test_a_library_that_is_not_icu_data_is_refused(tmp_path: Path) -> None:
    with pytest.raises(icu_data.IcuDataError, match="not an ICU data library"):
        icu_data.version_of(tmp_path / "libicuuc.so.73")
    fake = tmp_path / "libicudata.so.73"
    fake.write_bytes(b"not an ELF file")
    with pytest.raises(icu_data.IcuDataError, match="not a 64-bit"):
        icu_data.data_package(fake, "73")


def sorted_with(library: Path | None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if library is not None:
        env["LD_PRELOAD"] = str(library)  # taken by soname before Qt's own copy
    return subprocess.run(
        [sys.executable, "-c", SORT_CHECK], capture_output=True, text=True, env=env, timeout=60
    )


@pytest.mark.skipif(not sys.platform.startswith("linux") or not QT_ICU, reason="Linux Qt wheel")
def test_the_filtered_library_sorts_as_the_full_one_at_a_third_of_the_size(
    tmp_path: Path,
) -> None:
    for name in icu_data.TOOLS:
        tool(name)
    (original,) = QT_ICU
    stale = tmp_path / "icu-data" / original.name
    stale.parent.mkdir()
    stale.write_text("a file where the work folder goes, as an older build left it")
    icu_data.filtered_library(original, tmp_path)
    filtered = icu_data.filtered_library(original, tmp_path)  # a rebuild starts afresh

    assert filtered.name == original.name
    assert filtered.stat().st_size < original.stat().st_size / 3
    package = icu_data.data_package(filtered, icu_data.version_of(filtered))
    assert b"coll/de.res" in package and b"cnvalias.icu" in package
    assert b"brkitr/" not in package

    full, small = sorted_with(None), sorted_with(filtered)
    assert small.returncode == 0, small.stderr
    assert "Could not create collator" not in small.stderr
    assert small.stdout == full.stdout
    assert '"files": ["take 1.txt", "Take 2.txt", "take 10.txt"]' in small.stdout
    assert '"sv": ["apple", "ok", "zebra", "\\u00c4pfel", "\\u00d6dem"]' in small.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux") or not QT_ICU, reason="Linux Qt wheel")
def test_the_selftest_check_fails_on_a_build_that_lost_the_collation_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in icu_data.TOOLS:
        tool(name)
    rule = icu_data.unused
    monkeypatch.setattr(icu_data, "unused", lambda item: item.startswith("coll/") or rule(item))
    (original,) = QT_ICU
    broken = icu_data.filtered_library(original, tmp_path)
    check = "from app.ui.selftest_checks import collation_works; print(collation_works())"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))

    def run(preload: Path | None) -> str:
        extra = {"LD_PRELOAD": str(preload)} if preload else {}
        result = subprocess.run(
            [sys.executable, "-c", check], capture_output=True, text=True, env={**env, **extra}
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert run(None) == "True"
    assert run(broken) == "False"
