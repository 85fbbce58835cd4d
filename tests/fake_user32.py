"""A double of Windows' user32 display-affinity calls, for tests on Linux: `install` puts it
behind ctypes.WinDLL("user32") and ctypes.get_last_error, as app/ui/overlay/share_hiding.py calls
them. It can behave as the Windows builds reported to do: refusing the affinity on a layered
window with per-pixel alpha (`refuses`), or, before version 2004, storing WDA_MONITOR for
WDA_EXCLUDEFROMCAPTURE (`before_2004`)."""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import pytest

ERROR_INVALID_PARAMETER = 87
WDA_MONITOR, WDA_EXCLUDEFROMCAPTURE = 0x1, 0x11


class FakeFunction:
    def __init__(self, call: Callable[..., int]) -> None:
        self.call = call
        self.argtypes: tuple[Any, ...] | None = None
        self.restype: Any = None

    def __call__(self, *args: Any) -> int:
        return self.call(*args)


class FakeUser32:
    def __init__(
        self,
        refuses: Callable[[int], bool] = lambda hwnd: False,
        *,
        before_2004: bool = False,
        ignores: bool = False,  # accepts and does nothing
    ) -> None:
        self.refuses, self.before_2004, self.ignores = refuses, before_2004, ignores
        self.affinity: dict[int, int] = {}
        self.calls: list[tuple[int, int]] = []
        self.last_error = 0
        self.SetWindowDisplayAffinity = FakeFunction(self._set)
        self.GetWindowDisplayAffinity = FakeFunction(self._get)

    def _set(self, hwnd: int, affinity: int) -> int:
        self.calls.append((hwnd, affinity))
        if affinity == WDA_EXCLUDEFROMCAPTURE and self.refuses(hwnd):
            self.last_error = ERROR_INVALID_PARAMETER
            return 0
        if not self.ignores:
            stored = (
                WDA_MONITOR if affinity == WDA_EXCLUDEFROMCAPTURE and self.before_2004 else affinity
            )
            self.affinity[hwnd] = stored
        return 1

    def _get(self, hwnd: int, out: Any) -> int:
        out._obj.value = self.affinity.get(hwnd, 0)
        return 1


def install(monkeypatch: pytest.MonkeyPatch, user32: FakeUser32) -> FakeUser32:
    def win_dll(name: str, use_last_error: bool = False) -> FakeUser32:
        assert name == "user32" and use_last_error  # GetLastError is read through ctypes
        return user32

    monkeypatch.setattr(ctypes, "WinDLL", win_dll, raising=False)
    monkeypatch.setattr(ctypes, "get_last_error", lambda: user32.last_error, raising=False)
    return user32
