"""One app at a time: the first launch listens on a local socket (a named pipe on Windows); a
second launch connects, asks it to come forward, and exits without starting a session.

The name is per user and per data folder (CAPTIONIST_DATA_DIR when set), so that test runs with
data folders of their own do not meet. On Linux the socket is in XDG_RUNTIME_DIR, the user's
own folder, when there is one; elsewhere where Qt puts it (the temp folder on Unix, which macOS
keeps per user; the pipe namespace on Windows). Only the same user may connect.

A socket file a crash left behind refuses connections: it is removed and the name claimed
afresh. A lock file around the check keeps two launches at the same moment from both being
first. The message is one line of JSON, {"command": "raise", "file": "<--file or empty>"}; the
first closes the connection once it has read it, which the second waits a moment for.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import sys
from pathlib import Path

from PySide6.QtCore import QDir, QLockFile, QObject, Qt, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QWidget

from app.services.private_files import data_dir

log = logging.getLogger(__name__)
CONNECT_MS = 1000
ANSWER_WAIT_MS = 1000  # the second waits this long for the first to have read the message
LOCK_WAIT_MS = 5000
MAX_MESSAGE = 64 * 1024
_MAX_SOCKET_PATH = 100  # bytes: a Unix socket's path has room for 103 (macOS) or 107 (Linux)


def _user() -> str:
    try:
        return getpass.getuser()
    except (ImportError, KeyError, OSError):  # no name for this uid (a container, say)
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def instance_name() -> str:
    """The name the first instance listens on: a path in XDG_RUNTIME_DIR on Linux when there
    is one (and it is short enough), else a plain name."""
    key = f"{_user()}\0{data_dir().resolve()}".encode()  # CAPTIONIST_DATA_DIR when set
    name = f"captionist-{hashlib.sha256(key).hexdigest()[:16]}"
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if sys.platform.startswith("linux") and runtime and Path(runtime).is_dir():
        path = str(Path(runtime) / name)
        if len(os.fsencode(path)) < _MAX_SOCKET_PATH:
            return path
    return name


def bring_forward(window: QWidget) -> None:
    """Show `window` (from the tray too), un-minimised, on top and active."""
    window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()
    log.info("window raised: a second launch asked")


class SingleInstance(QObject):
    """`claim()` once at start. The first instance then listens while this object lives
    (`close()` ends it) and emits `raise_requested` for each later launch."""

    raise_requested = Signal(str)  # the later launch's --file, "" without one

    def __init__(
        self,
        name: str | None = None,
        parent: QObject | None = None,
        *,
        answer_wait_ms: int = ANSWER_WAIT_MS,
    ) -> None:
        super().__init__(parent)
        self.name = name or instance_name()
        self.answer_wait_ms = answer_wait_ms
        self._server: QLocalServer | None = None

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def claim(self, file: Path | None = None) -> bool:
        """True: this is the first instance (it listens now, or, if it cannot, runs anyway).
        False: another runs, and was asked to come forward (and told `file`)."""
        lock = QLockFile(self._lock_path())
        locked = lock.tryLock(LOCK_WAIT_MS)
        if not locked:
            log.warning("single instance: no lock at %s (%s)", lock.fileName(), lock.error())
        try:
            if self._ask_the_first(file):
                return False
            self._listen()
            return True
        finally:
            if locked:
                lock.unlock()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()  # on Unix this removes the socket file
            self._server = None

    def _lock_path(self) -> str:
        folder = os.path.dirname(self.name) or QDir.tempPath()
        return os.path.join(folder, os.path.basename(self.name) + ".lock")

    def _ask_the_first(self, file: Path | None) -> bool:
        """True: another instance listens (it was sent the message, or is too busy to take
        it: a second session is never the answer)."""
        socket = QLocalSocket(self)
        try:
            socket.connectToServer(self.name)
            if not socket.waitForConnected(CONNECT_MS):
                busy = socket.error() == QLocalSocket.LocalSocketError.SocketTimeoutError
                if busy:
                    log.warning("Captionist is already running but does not answer")
                return busy
            message = {"command": "raise", "file": str(file) if file is not None else ""}
            socket.write(json.dumps(message).encode() + b"\n")
            socket.waitForBytesWritten(CONNECT_MS)
            if not socket.waitForDisconnected(self.answer_wait_ms):
                log.debug("single instance: the first has not answered yet")
            log.info("Captionist is already running: asked it to come forward")
            return True
        finally:
            socket.abort()
            socket.deleteLater()

    def _listen(self) -> None:
        QLocalServer.removeServer(self.name)  # nobody answered: a socket a crash left, if any
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            log.warning("single instance: cannot listen on %s: %s", self.name, server.errorString())
            server.deleteLater()
            return
        server.newConnection.connect(self._accept)
        self._server = server

    def _accept(self) -> None:
        while self._server is not None and self._server.hasPendingConnections():
            connection = self._server.nextPendingConnection()
            received = bytearray()

            def read(connection: QLocalSocket = connection, received: bytearray = received) -> None:
                received.extend(connection.readAll().data())
                if b"\n" in received or len(received) > MAX_MESSAGE:
                    connection.readyRead.disconnect()
                    self._handle(bytes(received).split(b"\n", 1)[0][:MAX_MESSAGE])
                    connection.disconnectFromServer()  # the second's answer: it has been read

            connection.readyRead.connect(read)
            connection.disconnected.connect(connection.deleteLater)
            read()  # what came with the connection

    def _handle(self, line: bytes) -> None:
        try:
            request = json.loads(line)
        except ValueError:
            request = None
        if not isinstance(request, dict) or request.get("command") != "raise":
            log.warning("single instance: a message not understood: %r", line[:200])
            return
        file = request.get("file")
        file = file if isinstance(file, str) else ""
        log.info("a second launch asked to come forward%s", f" (with {file})" if file else "")
        self.raise_requested.emit(file)
