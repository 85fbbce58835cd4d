"""A double of pyobjc's `objc` and `AppKit` for the overlay's NSWindow, for tests on Linux:
`install(monkeypatch, FakeNSWindow())` makes objc_object(c_void_p=...) an NSView in it."""

from __future__ import annotations

import sys
import types

import pytest


class FakeNSWindow:
    def __init__(self, *, ignores: bool = False) -> None:
        self.sharing = 1  # NSWindowSharingReadOnly: what a window starts with
        self.ignores = ignores
        self.views: list[int] = []

    def setSharingType_(self, sharing: int) -> None:
        if not self.ignores:
            self.sharing = sharing

    def sharingType(self) -> int:
        return self.sharing


class FakeNSView:
    def __init__(self, window: FakeNSWindow | None) -> None:
        self._window = window

    def window(self) -> FakeNSWindow | None:
        return self._window


def install(monkeypatch: pytest.MonkeyPatch, window: FakeNSWindow | None) -> FakeNSWindow | None:
    objc = types.ModuleType("objc")

    def objc_object(*, c_void_p: int) -> FakeNSView:
        if window is not None:
            window.views.append(c_void_p)
        return FakeNSView(window)

    objc.objc_object = objc_object  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "objc", objc)
    monkeypatch.setitem(sys.modules, "AppKit", types.ModuleType("AppKit"))
    return window
