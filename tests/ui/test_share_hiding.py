"""Hiding the overlay from screen sharing: the Windows and macOS calls over doubles of user32
and pyobjc, the overlay kept hidden across its native windows, the refusal of a translucent
window handled, what the user is told, and the setting (disabled on Linux)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from app.services.settings import AppSettings, OverlayLook
from app.ui.overlay.caption_overlay import CaptionOverlay
from app.ui.overlay.share_hiding import (
    HIDDEN,
    LINUX_TOOLTIP,
    MACOS_HIDDEN,
    OPAQUE_NOTE,
    HidingResult,
    hide_on_macos,
    hide_on_windows,
    share_hiding_checkbox,
    windows_outcome,
)
from app.ui.settings import SettingsDialog
from app.ui.settings_store import SettingsStore
from tests import fake_appkit, fake_user32
from tests.fake_appkit import FakeNSWindow
from tests.fake_user32 import FakeUser32

TRANSLUCENT = Qt.WidgetAttribute.WA_TranslucentBackground


def test_linux_offers_no_way_and_the_checkbox_says_so(qtbot) -> None:  # type: ignore[no-untyped-def]
    box = share_hiding_checkbox(False, "linux")
    assert not box.isEnabled()
    assert box.toolTip() == LINUX_TOOLTIP
    assert LINUX_TOOLTIP == (
        "No way to do this on Linux (X11 or Wayland): share a single window instead of the screen"
    )
    for system in ("win32", "darwin"):
        assert share_hiding_checkbox(True, system).isEnabled()


@pytest.mark.parametrize(
    ("hide", "accepted", "affinity", "hidden", "says"),
    [
        (True, True, 0x11, True, "hidden from screen sharing"),
        (True, True, 0x01, True, "empty box"),  # before Windows 10 version 2004
        (True, True, 0x00, False, "did not do it"),  # accepted, not applied
        (True, False, None, False, "refused to hide the captions overlay from screen sharing"),
        (False, True, 0x00, False, ""),
        (False, False, None, True, "kept the overlay out of screen sharing"),
    ],
)
def test_what_windows_answered_is_what_the_user_is_told(
    hide: bool, accepted: bool, affinity: int | None, hidden: bool, says: str
) -> None:
    result = windows_outcome(hide, accepted, 87, affinity)
    assert result.hidden is hidden
    assert says in result.message and (says or not result.message)
    if not accepted:
        assert "(error 87)" in result.message


def test_the_user32_calls_are_checked_and_read_back(monkeypatch: pytest.MonkeyPatch) -> None:
    user32 = fake_user32.install(monkeypatch, FakeUser32())
    assert hide_on_windows(42, True) == HidingResult(True, HIDDEN)
    assert user32.calls == [(42, 0x11)] and user32.affinity == {42: 0x11}
    assert hide_on_windows(42, False) == HidingResult(False)
    assert user32.affinity == {42: 0}
    fake_user32.install(monkeypatch, FakeUser32(refuses=lambda hwnd: True))
    refused = hide_on_windows(42, True)
    assert not refused.hidden and "(error 87)" in refused.message
    fake_user32.install(monkeypatch, FakeUser32(ignores=True))
    assert not hide_on_windows(42, True).hidden  # a TRUE that did nothing is caught


def test_the_macos_window_is_made_unshareable(monkeypatch: pytest.MonkeyPatch) -> None:
    window = fake_appkit.install(monkeypatch, FakeNSWindow())
    assert window is not None
    assert hide_on_macos(0x7F00, True) == HidingResult(True, MACOS_HIDDEN)
    assert window.sharing == 0 and window.views == [0x7F00]  # NSWindowSharingNone
    assert hide_on_macos(0x7F00, False) == HidingResult(False)
    assert window.sharing == 1
    fake_appkit.install(monkeypatch, FakeNSWindow(ignores=True))
    assert "did not change" in hide_on_macos(0x7F00, True).message
    fake_appkit.install(monkeypatch, None)
    assert hide_on_macos(0x7F00, True) == HidingResult(False)  # no window yet: at Show
    monkeypatch.setitem(sys.modules, "objc", None)
    assert "pip install pyobjc-framework-Cocoa" in hide_on_macos(0x7F00, True).message


def overlay_on(qtbot, monkeypatch: pytest.MonkeyPatch, system: str) -> CaptionOverlay:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "platform", system)
    overlay = CaptionOverlay(OverlayLook())
    qtbot.addWidget(overlay)
    return overlay


def hidden_look(overlay: CaptionOverlay, hide: bool = True) -> OverlayLook:
    return replace(overlay.look, hide_from_share=hide)


def test_a_translucent_overlay_windows_refuses_is_hidden_opaque_and_stays_hidden(
    qtbot,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    overlay = overlay_on(qtbot, monkeypatch, "win32")
    refuses_translucent = FakeUser32(refuses=lambda hwnd: overlay.testAttribute(TRANSLUCENT))
    user32 = fake_user32.install(monkeypatch, refuses_translucent)
    reports: list[str] = []
    overlay.share_hiding.reported.connect(reports.append)
    overlay.show()
    assert user32.calls == []  # off by default
    first = int(overlay.winId())
    overlay.apply_look(hidden_look(overlay))
    hwnd = int(overlay.winId())
    assert hwnd != first  # a new native window, without per-pixel alpha
    assert user32.calls == [(first, 0x11), (hwnd, 0x11)]
    assert user32.affinity == {hwnd: 0x11}
    assert not overlay.testAttribute(TRANSLUCENT) and overlay.isVisible()
    assert reports == [HIDDEN + OPAQUE_NOTE]
    overlay.set_click_through(True)  # new window flags: Qt may make a new native window
    assert user32.affinity[int(overlay.winId())] == 0x11
    overlay.hide()
    overlay.destroy()  # a new native window, however it comes about
    overlay.show()
    again = int(overlay.winId())
    assert again not in (first, hwnd) and user32.affinity[again] == 0x11
    assert reports == [HIDDEN + OPAQUE_NOTE]  # the same state: said once
    overlay.apply_look(hidden_look(overlay, False))
    assert overlay.testAttribute(TRANSLUCENT)  # translucent again once not hidden
    assert user32.calls[-1] == (int(overlay.winId()), 0)


def test_where_windows_hides_the_translucent_overlay_it_stays_translucent(
    qtbot,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    overlay = overlay_on(qtbot, monkeypatch, "win32")
    user32 = fake_user32.install(monkeypatch, FakeUser32())
    overlay.apply_look(hidden_look(overlay))
    assert user32.calls == []  # no native window shown yet: when it is
    overlay.show()
    assert user32.affinity == {int(overlay.winId()): 0x11}
    assert overlay.testAttribute(TRANSLUCENT)
    assert overlay.share_hiding.result == HidingResult(True, HIDDEN)


def test_a_refusal_that_stays_is_told_not_hidden(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    overlay = overlay_on(qtbot, monkeypatch, "win32")
    fake_user32.install(monkeypatch, FakeUser32(refuses=lambda hwnd: True))
    overlay.show()
    overlay.apply_look(hidden_look(overlay))
    result = overlay.share_hiding.result
    assert not result.hidden and "refused" in result.message


def test_on_a_mac_the_overlay_window_is_not_shared(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    overlay = overlay_on(qtbot, monkeypatch, "darwin")
    window = fake_appkit.install(monkeypatch, FakeNSWindow())
    assert window is not None
    overlay.show()
    overlay.apply_look(hidden_look(overlay))
    assert window.sharing == 0 and window.views == [int(overlay.winId())]
    assert overlay.share_hiding.result == HidingResult(True, MACOS_HIDDEN)


def test_on_linux_a_saved_setting_is_answered_with_why_not(
    qtbot,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    overlay = overlay_on(qtbot, monkeypatch, "linux")
    monkeypatch.delattr("ctypes.WinDLL", raising=False)  # any Windows call would fail
    reports: list[str] = []
    overlay.share_hiding.reported.connect(reports.append)
    overlay.show()
    overlay.apply_look(hidden_look(overlay))
    assert reports == [LINUX_TOOLTIP]
    assert overlay.testAttribute(TRANSLUCENT)


def test_the_setting_is_off_by_default_saved_and_edited(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = SettingsStore(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert store.load_look().hide_from_share is False
    store.save_look(OverlayLook(hide_from_share=True))
    assert store.load_look().hide_from_share is True
    dialog = SettingsDialog(AppSettings(), store.load_look(), [])
    qtbot.addWidget(dialog)
    assert dialog.hide_from_share.isChecked()
    dialog.hide_from_share.setChecked(False)
    assert dialog.result_settings()[1].hide_from_share is False


def test_what_happened_is_shown_in_the_status_bar(controller, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "platform", "linux")
    controller.overlay.show()
    controller.overlay.apply_look(hidden_look(controller.overlay))
    assert controller.window.statusBar().currentMessage() == LINUX_TOOLTIP
