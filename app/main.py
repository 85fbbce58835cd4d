"""Composition root of the desktop app: Qt + asyncio (qasync) + the embedded server.

One thread runs both loops. The speech engine loads in a worker thread while the window is
already up; the embedded server listens on 127.0.0.1 with a random port and token. SIGTERM,
SIGINT and Quit all go through the same graceful path: captioning stops with CloseStream (so
pending words become final and are journaled), the journal closes, the server and its
threads stop, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import traceback
from pathlib import Path
from types import TracebackType

os.environ.setdefault("QT_API", "pyside6")  # before qasync picks a binding

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from app import APP_NAME, __version__

log = logging.getLogger(__name__)


def _no_dialogs() -> bool:
    """Tests and scripts run the app with CAPTIONIST_NO_DIALOGS=1: nothing waits for a click."""
    return bool(os.environ.get("CAPTIONIST_NO_DIALOGS"))


def _install_excepthook() -> None:
    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        log.error("unexpected error\n%s", text)
        print(text, file=sys.stderr)
        if QApplication.instance() is not None and not _no_dialogs():
            box = QMessageBox(
                QMessageBox.Icon.Critical,
                "Captionist: unexpected error",
                f"{kind.__name__}: {value}\n\nCaptioning goes on if it can; "
                "the transcript is autosaved.",
            )
            box.setDetailedText(text)
            box.setModal(False)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.show()

    sys.excepthook = hook


async def amain(app: QApplication, file: Path | None) -> int:
    from app.commands.embedded import embedded_server, load_engine
    from app.services.session import EngineHost
    from app.ui.controller import AppController
    from app.ui.main_window import MainWindow
    from app.ui.overlay.caption_overlay import CaptionOverlay
    from app.ui.overlay.keys import OverlayKeys
    from app.ui.settings_store import SettingsStore
    from app.ui.transcript.model import TranscriptModel

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(
        lambda _loop, context: log.error(
            "event loop: %s", context.get("message"), exc_info=context.get("exception")
        )
    )
    store = SettingsStore()
    model = TranscriptModel()
    window = MainWindow(model)
    overlay = CaptionOverlay(store.load_look())
    # The engine and its embedded server: loaded below, replaced at a Start after Settings
    # changed the engine or model.
    engines = EngineHost(load_engine, embedded_server)
    controller = AppController(window, overlay, model, store, engines=engines)
    OverlayKeys(window, overlay)  # owned by the window
    geometry = store.window_state()
    if geometry is not None:
        window.restoreGeometry(geometry)
    from app.ui.assets import app_icon
    from app.ui.tray import Tray

    app.setWindowIcon(app_icon())
    tray = Tray(window)
    tray.show()
    # Before the window maps, so that its place is kept.
    controller.place_overlay(window_placed=geometry is not None)
    window.show()
    if controller.settings.show_overlay:
        overlay.show()
    if not controller.settings.first_run_done and file is None and not _no_dialogs():
        from app.ui.first_run import offer_first_run

        offer_first_run(controller)  # parented to the main window, which keeps it
    log.info("window shown")  # bench/startup.py times these two lines
    from app.ui.single_instance import SingleInstance, bring_forward

    if (instance := app.findChild(SingleInstance)) is not None:  # a later launch: come forward
        instance.raise_requested.connect(lambda _file: bring_forward(window))
    from app.services.private_files import data_dir, make_private

    # Private by default: what an older version (or another umask) left wider is narrowed.
    controller.spawn(asyncio.to_thread(make_private, data_dir()))
    if sys.platform.startswith("linux"):  # an echo canceller a crash left loaded: gone
        from app.audio.echo_cancel import remove_stale_quietly

        controller.spawn(asyncio.to_thread(remove_stale_quietly))

    done = asyncio.Event()
    controller.quit_finished.connect(done.set)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: controller.quit(ask=False))
    # Python runs signal handlers only between bytecodes: wake it while Qt sleeps in C++.
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(200)

    try:
        # A failed load is shown in the window; the app stays usable for old transcripts,
        # and Start tries again (after Settings chose another model, say).
        if await controller.engine_ready():
            log.info("ready to caption")
            from app.audio.replay import FileReplaySource
            from app.services.journal import crashed_sessions

            crashed = crashed_sessions(at_start=True)  # before a journal of its own
            if crashed and file is None:
                controller.files.offer_restore(crashed[-1])
            if file is not None:
                controller.spawn(controller.run(FileReplaySource(file)))
        await done.wait()
    finally:
        heartbeat.stop()
        overlay.close()
        window.hide()
        await engines.aclose()
    return 0


def _application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("Captionist")
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    QGuiApplication.setDesktopFileName("io.github.captionist.Captionist")
    app.setQuitOnLastWindowClosed(False)
    return app


def run_gui(file: Path | None = None) -> int:
    _install_excepthook()
    from app.commands.preflight import display_problem

    if problem := display_problem():
        print(f"captionist: {problem}.", file=sys.stderr)
        return 2
    import qasync

    from app.ui.main_thread_gc import MainThreadCollector

    app = _application()
    from app.ui.single_instance import SingleInstance

    if not SingleInstance(parent=app).claim(file):
        return 0  # the app runs already: it was asked to come forward
    MainThreadCollector(parent=app).start()  # Qt objects are freed on the Qt thread only
    with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
        return runner.run(amain(app, file))


def run_selftest() -> int:
    """Qt (the platform plugin in use) plus the speech path, on the app's own event loop."""
    import json

    import qasync

    from app.commands.selftest import selftest_report
    from app.ui.main_thread_gc import MainThreadCollector

    app = _application()  # the QApplication the app would run (its platform plugin loads here)
    MainThreadCollector(parent=app).start()
    with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
        report = runner.run(selftest_report())
    report["qt_platform"] = QGuiApplication.platformName()
    from app.commands.preflight import display_problem, sound_server_problem
    from app.ui.selftest_checks import collation_works, icon_loads, single_instance_loads

    # Not failures of this install: what the computer lacks, with the command that fixes it.
    problems = [display_problem(), sound_server_problem()]
    report["problems"] = [str(problem) for problem in problems if problem is not None]
    report["icon"] = icon_loads()
    report["collation"] = collation_works()
    report["single_instance"] = single_instance_loads()
    checks = ("ok", "icon", "collation", "single_instance")
    report["ok"] = all(bool(report[check]) for check in checks)
    print(json.dumps(report, ensure_ascii=False))
    return 0 if report["ok"] else 1
