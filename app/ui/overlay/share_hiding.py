"""Hiding the caption overlay from screen sharing and recording (a setting, off by default).

Windows: SetWindowDisplayAffinity(hwnd, WDA_EXCLUDEFROMCAPTURE), Windows 10 version 2004 and
later (earlier ones blank the window instead: WDA_MONITOR). Three things make it hold:
- it is set on the native window once it exists, and again whenever Qt makes a new one
  (changing the window flags, as click-through does, replaces the HWND, and the affinity
  leaves with the old one): on every Show and WinIdChange of the overlay;
- the overlay is frameless and translucent, which Qt draws as a layered window with
  per-pixel alpha (WS_EX_LAYERED, UpdateLayeredWindowIndirect), and such windows are
  reported to refuse the affinity (WPF's AllowTransparency windows, drawn the same way, on
  build 19041). So the return value is checked, the affinity read back (a call can succeed
  without effect), and when Windows refuses, the overlay gives up its per-pixel alpha (an
  opaque panel: not a layered window) and the call is made again;
- what happened is said in the status bar, never silently.
macOS: NSWindow.sharingType = NSWindowSharingNone on the overlay's window (winId() is its
NSView). Older capture APIs honour it; on macOS 15 and later, apps that capture with
ScreenCaptureKit may still show the window, and Apple offers no way to prevent that.
Linux (X11 and Wayland): no such API; the setting is disabled with a tooltip saying so.
"""

from __future__ import annotations

import importlib
import logging
import sys
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QWidget

log = logging.getLogger(__name__)
LINUX_TOOLTIP = (
    "No way to do this on Linux (X11 or Wayland): share a single window instead of the screen"
)
WDA_NONE, WDA_MONITOR, WDA_EXCLUDEFROMCAPTURE = 0x0, 0x1, 0x11
NS_WINDOW_SHARING_NONE, NS_WINDOW_SHARING_READ_ONLY = 0, 1
HIDDEN = "The captions overlay is hidden from screen sharing and recording."
MACOS_HIDDEN = (
    "The captions overlay is hidden from screenshots and screen sharing; on macOS 15 and "
    "later, apps that capture with ScreenCaptureKit may still show it (Apple offers no way "
    "to prevent that)."
)
OPAQUE_NOTE = (
    " Its background is opaque while it is hidden: Windows does not hide it when translucent."
)


@dataclass(frozen=True)
class HidingResult:
    hidden: bool  # as far as the OS says
    message: str = ""  # for the user; empty: nothing worth saying


def unsupported_reason(system: str) -> str | None:
    """Why this system cannot hide a window from capture, None where it can."""
    if system.startswith("linux"):
        return LINUX_TOOLTIP
    if system in ("win32", "darwin"):
        return None
    return "Not possible on this system: share a single window instead of the screen"


def windows_outcome(hide: bool, accepted: bool, error: int, affinity: int | None) -> HidingResult:
    """What SetWindowDisplayAffinity's answer and the affinity read back mean."""
    if not hide:
        if accepted:
            return HidingResult(False)
        return HidingResult(
            True, f"Windows kept the overlay out of screen sharing (error {error})."
        )
    if not accepted:
        return HidingResult(
            False,
            f"Windows refused to hide the captions overlay from screen sharing (error {error}).",
        )
    if affinity == WDA_EXCLUDEFROMCAPTURE:
        return HidingResult(True, HIDDEN)
    if affinity == WDA_MONITOR:  # before Windows 10 version 2004
        return HidingResult(
            True, "This Windows shows the captions overlay as an empty box in screen sharing."
        )
    return HidingResult(
        False,
        "Windows accepted hiding the captions overlay from screen sharing but did not do it.",
    )


class User32Affinity:
    """user32's two display-affinity calls, through ctypes (Windows only)."""

    def __init__(self) -> None:
        import ctypes
        from ctypes import wintypes

        self._ctypes = ctypes
        self._dword = wintypes.DWORD
        self.user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined]
        self.user32.SetWindowDisplayAffinity.argtypes = (wintypes.HWND, wintypes.DWORD)
        self.user32.SetWindowDisplayAffinity.restype = wintypes.BOOL
        self.user32.GetWindowDisplayAffinity.argtypes = (
            wintypes.HWND, ctypes.POINTER(wintypes.DWORD),
        )  # fmt: skip
        self.user32.GetWindowDisplayAffinity.restype = wintypes.BOOL

    def set(self, hwnd: int, affinity: int) -> tuple[bool, int]:
        if self.user32.SetWindowDisplayAffinity(hwnd, affinity):
            return True, 0
        return False, int(self._ctypes.get_last_error())  # type: ignore[attr-defined]

    def get(self, hwnd: int) -> int | None:
        value = self._dword()
        if not self.user32.GetWindowDisplayAffinity(hwnd, self._ctypes.byref(value)):
            return None
        return int(value.value)


def hide_on_windows(hwnd: int, hide: bool, api: User32Affinity | None = None) -> HidingResult:
    api = api or User32Affinity()
    accepted, error = api.set(hwnd, WDA_EXCLUDEFROMCAPTURE if hide else WDA_NONE)
    return windows_outcome(hide, accepted, error, api.get(hwnd) if accepted else None)


def hide_on_macos(view_address: int, hide: bool) -> HidingResult:
    try:
        objc = importlib.import_module("objc")
        importlib.import_module("AppKit")  # NSWindow's methods come with AppKit's bindings
    except ImportError as exc:
        why = f"pyobjc is missing ({exc}): pip install pyobjc-framework-Cocoa"
        return HidingResult(False, why)
    window = objc.objc_object(c_void_p=view_address).window()
    if window is None:
        return HidingResult(False)  # no window yet: tried again when it is shown
    wanted = NS_WINDOW_SHARING_NONE if hide else NS_WINDOW_SHARING_READ_ONLY
    window.setSharingType_(wanted)
    if int(window.sharingType()) != wanted:
        return HidingResult(not hide, "macOS did not change whether the overlay can be shared.")
    return HidingResult(hide, MACOS_HIDDEN if hide else "")


def share_hiding_checkbox(checked: bool, system: str | None = None) -> QCheckBox:
    """The Settings checkbox: disabled, saying why, where the system cannot do it."""
    box = QCheckBox("Hide the overlay from screen sharing and recording")
    box.setChecked(checked)
    reason = unsupported_reason(sys.platform if system is None else system)
    box.setEnabled(reason is None)
    box.setToolTip(
        reason
        or "Others in a call do not see your captions when you share your whole screen "
        "(Windows 10 version 2004 or later; on macOS, not every app honours it)"
    )
    return box


class ShareHiding(QObject):
    """Keeps a top-level window hidden from capture (or not) across its native windows."""

    reported = Signal(str)  # what the user should know, when it changes

    def __init__(self, window: QWidget, system: str | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.system = sys.platform if system is None else system
        self.wanted = False
        self.result = HidingResult(False)
        self.made_opaque = False  # translucency given up for Windows' sake
        self._applying = False
        window.installEventFilter(self)

    def set_wanted(self, hide: bool) -> None:
        if hide == self.wanted:
            return
        self.wanted = hide
        if self.window.isVisible():
            self.apply()  # else when it is shown

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        native = event.type() in (QEvent.Type.Show, QEvent.Type.WinIdChange)
        if watched is self.window and native and (self.wanted or self.result.hidden):
            self.apply()
        return False

    def apply(self) -> HidingResult:
        if self._applying:  # recreating the native window below sends WinIdChange
            return self.result
        self._applying = True
        try:
            result = self._apply()
        finally:
            self._applying = False
        if result.message and result != self.result:
            log.info("share hiding: %s", result.message)
            self.reported.emit(result.message)
        self.result = result
        return result

    def _apply(self) -> HidingResult:
        reason = unsupported_reason(self.system)
        if reason is not None:
            return HidingResult(False, reason if self.wanted else "")
        if self.system == "darwin":
            return hide_on_macos(int(self.window.winId()), self.wanted)
        if self.made_opaque and not self.wanted:
            self._set_translucent(True)
        result = hide_on_windows(int(self.window.winId()), self.wanted)
        if self.wanted and not result.hidden and not self.made_opaque:
            log.warning("share hiding refused on the translucent overlay: %s", result.message)
            self._set_translucent(False)
            result = hide_on_windows(int(self.window.winId()), True)
        if self.made_opaque and result.hidden:
            result = HidingResult(True, result.message + OPAQUE_NOTE)
        return result

    def _set_translucent(self, translucent: bool) -> None:
        """Make the native window again with or without per-pixel alpha (Qt chooses the
        window's pixel format when it creates the native window)."""
        visible = self.window.isVisible()
        self.window.hide()
        self.window.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground, translucent)
        self.window.destroy()
        self.made_opaque = not translucent
        if visible:
            self.window.show()
        self.window.update()
