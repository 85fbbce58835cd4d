"""A full disk under the journal: `os.fsync` refuses with ENOSPC while `full` (the journal's
write then fails as on a real full disk, and is kept to be written again)."""

from __future__ import annotations

import errno
import os

import pytest


class FullDisk:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = True
        real = os.fsync

        def fsync(fd: int) -> None:
            if self.full:
                raise OSError(errno.ENOSPC, "No space left on device")
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)
