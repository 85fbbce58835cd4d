"""Packaging assets and the app's own diagnostics: desktop entry, AppStream metainfo, icons,
the About dialog's licences, the rotating log file, and `captionist --selftest`."""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import ROOT

LINUX = ROOT / "packaging" / "linux"
ICONS = ROOT / "resources" / "icons"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing: .ci/run installs it")
        pytest.skip(f"{name} is not installed")
    return path


def test_desktop_entry_validates() -> None:
    result = subprocess.run(
        [tool("desktop-file-validate"), str(LINUX / "io.github.captionist.Captionist.desktop")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower()


def test_appstream_metainfo_validates() -> None:
    result = subprocess.run(
        [
            tool("appstreamcli"),
            "validate",
            "--no-net",
            str(LINUX / "io.github.captionist.Captionist.metainfo.xml"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_icons_are_generated_in_every_size_and_container() -> None:
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        png = ICONS / "hicolor" / f"{size}x{size}" / "apps" / "io.github.captionist.Captionist.png"
        width, height = struct.unpack(">II", png.read_bytes()[16:24])
        assert (width, height) == (size, size), png
    ico = (ICONS / "captionist.ico").read_bytes()
    assert struct.unpack("<HHH", ico[:6]) == (0, 1, 7)
    icns = (ICONS / "captionist.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    assert b"ic09" in icns  # 512 px for Retina docks


def test_plist_asks_for_the_microphone_and_entitlements_allow_it() -> None:
    import plistlib

    info = plistlib.loads((ROOT / "packaging/macos/Info.plist").read_bytes())
    assert "caption" in info["NSMicrophoneUsageDescription"].lower()
    assert info["CFBundleIdentifier"] == "io.github.captionist.Captionist"
    entitlements = plistlib.loads((ROOT / "packaging/macos/entitlements.plist").read_bytes())
    assert entitlements["com.apple.security.device.audio-input"] is True


def test_about_dialog_lists_version_model_and_the_model_licence(qtbot) -> None:  # type: ignore[no-untyped-def]
    from app import __version__
    from app.ui.dialogs import AboutDialog

    dialog = AboutDialog("tiny.en")
    qtbot.addWidget(dialog)
    text = dialog.licences.toPlainText()
    assert "Copyright (c) 2022 OpenAI" in text and "MIT" in text
    assert "LGPL-3.0" in text  # Qt
    assert "Copyright 2019 Resemble.AI" in text and "Apache License" in text  # speaker encoder
    from PySide6.QtWidgets import QLabel

    labels = [label.text() for label in dialog.findChildren(QLabel)]
    assert any(__version__ in t and "tiny.en" in t and "captionist.log" in t for t in labels)
    assert any("Resemblyzer (Apache-2.0" in t for t in labels)


def test_log_file_rotates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.logs import BACKUPS, MAX_BYTES, configure_file_logging

    monkeypatch.setenv("CAPTIONIST_LOG_DIR", str(tmp_path / "logs"))
    root = logging.getLogger()
    before = list(root.handlers)
    path = configure_file_logging()
    try:
        assert path == tmp_path / "logs" / "captionist.log"
        line = "x" * 1000
        for _ in range(5000):  # 5 MB of log
            logging.getLogger("app.test").info(line)
        files = sorted(p.name for p in path.parent.iterdir())
        assert files == ["captionist.log"] + [f"captionist.log.{i}" for i in range(1, BACKUPS + 1)]
        assert all(p.stat().st_size <= MAX_BYTES + 2000 for p in path.parent.iterdir())
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
                handler.close()


@pytest.mark.e2e
@pytest.mark.model
def test_selftest_from_outside_the_source_tree(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ""}
    result = subprocess.run(
        [sys.executable, "-m", "app", "--selftest"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and "country" in report["text"].lower()
    assert report["qt_platform"] == "offscreen"


@pytest.mark.e2e
def test_selftest_fails_with_a_clear_report_when_the_model_is_broken(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CAPTIONIST_CACHE_DIR": str(tmp_path)}
    code = (
        "import sys, json; from app.main import run_selftest; "
        "import app.commands.selftest as s; "
        "orig = s.selftest_report; "
        "s.selftest_report = lambda model='tiny.en': orig('no-such-model'); "
        "sys.exit(run_selftest())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 1
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] is False and "no-such-model" in report["error"]


def run_spec(monkeypatch: pytest.MonkeyPatch, system: str) -> dict[str, Any]:
    """packaging/captionist.spec as PyInstaller runs it on `system`, with what it passes to
    Analysis and BUNDLE kept (nothing is built)."""
    built: dict[str, Any] = {}

    def keep(name: str) -> Callable[..., SimpleNamespace]:
        def build(*args: Any, **kwargs: Any) -> SimpleNamespace:
            built[name] = kwargs
            return SimpleNamespace(pure=[], scripts=[], binaries=[], datas=[])

        return build

    pytest.importorskip("PyInstaller.utils.hooks")  # imported before sys.platform pretends

    monkeypatch.setattr(sys, "platform", system)
    spec = ROOT / "packaging" / "captionist.spec"
    names = {n: keep(n) for n in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}
    exec(
        compile(spec.read_text(), str(spec), "exec"),
        {"SPECPATH": str(spec.parent), "workpath": "/nonexistent", **names},
    )
    return built


def test_the_mac_bundle_carries_the_usage_strings_and_the_native_libraries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import plistlib

    built = run_spec(monkeypatch, "darwin")
    plist = built["BUNDLE"]["info_plist"]
    static = plistlib.loads((ROOT / "packaging/macos/Info.plist").read_bytes())
    for info in (plist, static):
        assert "microphone" in info["NSMicrophoneUsageDescription"]
        assert "audio your Mac plays" in info["NSScreenCaptureUsageDescription"]
    hidden = built["Analysis"]["hiddenimports"]
    assert {"ScreenCaptureKit", "CoreMedia", "objc", "AppKit"} <= set(hidden)
    assert "pyaudiowpatch" not in hidden


@pytest.mark.parametrize(("system", "native"), [("win32", ["pyaudiowpatch"]), ("linux", [])])
def test_each_bundle_carries_its_own_native_audio_library(
    monkeypatch: pytest.MonkeyPatch, system: str, native: list[str]
) -> None:
    hidden = set(run_spec(monkeypatch, system)["Analysis"]["hiddenimports"])
    natives = {"pyaudiowpatch", "ScreenCaptureKit", "CoreMedia", "objc", "AppKit"}
    assert hidden & natives == set(native)
    assert {"app.main", "faster_whisper.tokenizer"} <= hidden


def test_the_hosted_ci_workflow_builds_and_self_tests_on_three_systems() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / ".github/workflows/bundles.yml").read_text())
    job = workflow["jobs"]["bundle"]
    assert job["strategy"]["matrix"]["os"] == ["ubuntu-latest", "windows-latest", "macos-latest"]
    selftests = {step["if"] for step in job["steps"] if "--selftest" in step.get("run", "")}
    assert selftests == {f"runner.os == '{name}'" for name in ("Linux", "macOS", "Windows")}
    assert any("packaging/captionist.spec" in step.get("run", "") for step in job["steps"])
