"""Private by default: what Captionist keeps of a conversation is the user's alone. The data
folder (CAPTIONIST_DATA_DIR, else the platform's user data folder) and the folders in it are
0700, every file in them 0600, whatever the umask: each is made so, and `make_private` narrows
what an older version (or a umask of 0) left wider, at start.

On Windows modes are not how files are kept private (the user's profile is, by its ACLs), and
chmod only sets the read-only flag: nothing here changes a mode there.

    <data>/                 0700
        library.sqlite      0600, and its -journal, -wal, -shm
        sessions/           0700: the journals and their `.open` markers, 0600
            .trash/         0700: deleted sessions, 0600
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import platformdirs

from app import APP_NAME

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
SESSIONS = "sessions"  # in the data folder: the journals
TRASH = ".trash"  # in the sessions folder: deleted sessions, until they are purged
INDEX = "library.sqlite"  # in the data folder: the library's index
INDEX_FILES = ("", "-journal", "-wal", "-shm")  # SQLite's files beside it
MODES = os.name != "nt"


def data_dir() -> Path:
    override = os.environ.get("CAPTIONIST_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))


def private_dir(path: Path) -> None:
    """Make `path` a folder only its owner can use: missing, it is made (and any missing
    folder above it, each 0700); there, it is narrowed if wider."""
    missing = []
    folder = path
    while not folder.is_dir():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for each in reversed(missing):
        try:
            each.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not each.is_dir():
                raise
            continue  # made meanwhile, by another process
        if MODES:
            os.chmod(each, DIR_MODE)  # a umask can take bits away, never give them back
    narrow(path, DIR_MODE)


def create_private(path: Path, flags: int = os.O_RDWR) -> int:
    """A new file, 0600 whatever the umask: its descriptor. FileExistsError if it is there."""
    fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
    if MODES:
        try:
            os.fchmod(fd, FILE_MODE)  # a umask can take bits away, never give them back
        except OSError:
            os.close(fd)
            raise
    return fd


def touch_private(path: Path) -> None:
    """`Path.touch`, a new file made 0600."""
    try:
        os.close(create_private(path, os.O_WRONLY))
    except FileExistsError:
        os.utime(path)


def narrow(path: Path, allowed: int) -> bool:
    """Take from `path`'s mode every bit `allowed` does not have (a symlink is left as it is);
    whether it changed."""
    if not MODES:
        return False
    try:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            st = path.stat()  # the data folder may be a link the user made: its target
            if not stat.S_ISDIR(st.st_mode):
                return False
        current = stat.S_IMODE(st.st_mode)
        if not current & ~allowed:
            return False
        os.chmod(path, current & allowed)
    except FileNotFoundError:
        return False
    return True


def make_private(data: Path, sessions: Path | None = None, index: Path | None = None) -> list[Path]:
    """Narrow the data folder `data` (its sessions folder `sessions`, default `data/sessions`,
    and the trash in it; the index `index`, default `data/library.sqlite`) to 0700 folders and
    0600 files: what the app calls at start, and the library when it opens. Creates nothing;
    a file it cannot change is logged and left. The paths it changed."""
    sessions = sessions if sessions is not None else data / SESSIONS
    index = index if index is not None else data / INDEX
    changed: list[Path] = []

    def fix(path: Path, allowed: int) -> None:
        try:
            if narrow(path, allowed):
                changed.append(path)
        except OSError as exc:  # another user's file, a read-only disk
            log.warning("cannot make %s private: %s", path, exc)

    for folder in (data, sessions, sessions / TRASH):
        fix(folder, DIR_MODE)
        for path in _files(folder) if folder != data else []:
            fix(path, FILE_MODE)
    for suffix in INDEX_FILES:
        fix(Path(f"{index}{suffix}"), FILE_MODE)
    return changed


def _files(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as entries:
            return [Path(e.path) for e in entries if e.is_file(follow_symlinks=False)]
    except OSError:  # not there (nothing to fix), or unreadable
        return []


def inside(path: Path, folder: Path) -> bool:
    """Is `path` (which may not exist yet) in `folder`, links resolved?"""
    try:
        return path.parent.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def write_export(path: Path, text: str, data: Path | None = None) -> None:
    """Write an export (UTF-8, as `Path.write_text`): 0600 when `path` is inside the data folder
    `data` (default: the app's), an existing file there narrowed first; anywhere else with the
    user's umask, as any file they save. Raises OSError as `Path.write_text` does."""
    if not MODES or not inside(path, data if data is not None else data_dir()):
        path.write_text(text, encoding="utf-8")
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # before a word is written: an older file may be wider
    except OSError:
        os.close(fd)
        raise
    with open(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
