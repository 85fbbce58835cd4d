"""A keyring backend in memory, optionally slow, standing in for the OS keyring."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

if TYPE_CHECKING:
    pass


class MemoryKeyring(KeyringBackend):
    """Stands in for the OS keyring (Secret Service needs a desktop session). `delay_s` makes
    every call as slow as a locked keyring waiting on D-Bus."""

    priority = 1

    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.items: dict[tuple[str, str], str] = {}
        self.delay_s = delay_s

    def get_password(self, service: str, username: str) -> str | None:
        time.sleep(self.delay_s)
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(self.delay_s)
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        time.sleep(self.delay_s)
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError(username)
