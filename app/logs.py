"""The desktop app's log file: in the user log dir, rotated so it never grows without bound.

A double-clicked app has no terminal; when something goes wrong, this file is what a user can
attach to a bug report. CLI commands log to stderr only.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

from platformdirs import user_log_dir

MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > level:
        root.setLevel(level)
        for other in root.handlers:  # the console keeps the level it was given
            if other is not handler and other.level == logging.NOTSET:
                other.setLevel(logging.WARNING)
    return path
