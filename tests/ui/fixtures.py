"""Fixtures shared by the offscreen UI tests: a qasync loop on Qt's, and a whole controller
(window, overlay, settings in a temporary file). Imported by the test modules that use them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from app.ui.controller import AppController
from app.ui.main_window import MainWindow
from app.ui.overlay.caption_overlay import CaptionOverlay
from app.ui.settings_store import SettingsStore
from app.ui.transcript.model import TranscriptModel


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def controller(qtbot, tmp_path: Path) -> Iterator[AppController]:  # type: ignore[no-untyped-def]
    store = SettingsStore(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    model = TranscriptModel()
    window = MainWindow(model)
    overlay = CaptionOverlay(store.load_look())
    controller = AppController(window, overlay, model, store, journal_dir=tmp_path / "sessions")
    yield controller
    window.quit_requested.disconnect()  # closing the window here must not start a quit
    window.close()
    overlay.close()
