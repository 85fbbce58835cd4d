"""The desktop app's log file: in the user log dir, rotated so it never grows without bound.

A double-clicked app has no terminal; when something goes wrong, this file is what a user can
attach to a bug report. CLI commands log to stderr only. Secrets (tokens, API keys) are
redacted from its records, and from the client's websockets records wherever they go.
"""

from __future__ import annotations

import logging
import os
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

from platformdirs import user_log_dir

from app.credentials import redact

MAX_BYTES = 1_000_000
MIN_SECRET_CHARS = 8  # shorter values are hidden only where a header names them
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Credentials in handshake headers as websockets logs them at DEBUG ("> Authorization: Token
# abc"); the scheme stays readable, the credential goes.
CREDENTIALS = (
    re.compile(r"\bauthorization:[ \t]*(?:[a-z]+[ \t]+)?([^\s'\"]+)", re.IGNORECASE),
    re.compile(r"\bsec-websocket-protocol:[ \t]*(?:token|bearer)[ \t]*,[ \t]*([^\s,'\"]+)", re.I),
)


class SecretFilter(logging.Filter):
    """Redacts secrets in every record it sees: the values handed to `hide` wherever they
    appear, and the credentials of any Authorization header. It changes the record (and lets
    it through), so every handler after it sees it redacted."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def hide(self, secret: str | None) -> None:
        """Redact `secret` wherever it appears from now on. One too short to be told from
        ordinary words ("wrong", a test's "k") is left to the Authorization pattern: hiding
        it would blank those words out of every record."""
        if secret and len(secret) >= MIN_SECRET_CHARS:
            self._secrets.add(secret)

    def scrub(self, text: str) -> str:
        for pattern in CREDENTIALS:
            for credential in pattern.findall(text):
                text = redact(text, credential)
        for secret in self._secrets:
            text = redact(text, secret)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:  # as a Formatter would, once
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


# One instance, so a secret hidden once is hidden on every logger and handler that has it.
SECRETS = SecretFilter()


def secret_safe_logger(name: str) -> logging.Logger:
    """A logger for a websockets connection that redacts secrets: at DEBUG websockets logs
    every handshake header, `Authorization` (tokens, API keys) included. Its records are
    redacted before any handler sees them, however logging was set up."""
    logger = logging.getLogger(name + ".wire")
    logger.addFilter(SECRETS)  # addFilter ignores a filter it already has
    return logger


def log_dir() -> Path:
    override = os.environ.get("CAPTIONIST_LOG_DIR")
    return Path(override) if override else Path(user_log_dir("captionist", appauthor=False))


def configure_file_logging(level: int = logging.INFO) -> Path | None:
    """Add a rotating file handler (captionist.log, 3 backups of 1 MB); None if unwritable."""
    path = log_dir() / "captionist.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        logging.getLogger(__name__).warning("no log file at %s: %s", path, exc)
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(level)
    handler.addFilter(SECRETS)  # the file users attach to bug reports: nothing secret in it
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > level:
        root.setLevel(level)
        for other in root.handlers:  # the console keeps the level it was given
            if other is not handler and other.level == logging.NOTSET:
                other.setLevel(logging.WARNING)
    return path
