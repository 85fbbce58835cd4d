"""The first-run guide: shown once, skippable. What to caption (the others, me, both), a live
level check that proves the chosen source hears something, and where the overlay is and how
to make it click-through.

The level check opens the real devices the first Start will use, for as long as its page is
shown; a missing device is said in words, with where to fix it, and never stops the guide.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.audio.base import AudioSource
from app.errors import AudioDeviceError
from app.ui.main_window import level_percent

if TYPE_CHECKING:
    from app.ui.controller import AppController

OpenSource = Callable[[str], Awaitable[AudioSource]]  # "microphone" | "system" -> a source
CHOICES = (
    ("system", "The others in the call", "What your computer plays: the call, a video."),
    ("microphone", "Me", "Your microphone: a talk you give, your own words."),
    ("both", "Both", "The others and you, each labelled."),
)
HEARD_RMS = 0.005  # about -46 dBFS: quieter than speech, louder than a silent input
HEARD_BLOCKS = 3  # in a row: one click is not a voice


@dataclass
class GuideResult:
    source: str  # what to caption; the saved choice when skipped
    click_through: bool
    completed: bool  # False: skipped


class LevelCheck(QWidget):
    """A meter and a verdict for one side ("system" or "microphone")."""

    def __init__(self, side: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self.heard = False
        self._loud_blocks = 0
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        name = QLabel(title, self)
        name.setMinimumWidth(90)  # the meters line up
        self.meter = QProgressBar(self)
        self.meter.setRange(0, 100)
        self.meter.setTextVisible(False)
        self.meter.setAccessibleName(f"{title} level")
        self.verdict = QLabel("Listening…", self)
        self.verdict.setAccessibleName(f"{title}: what the check found")
        layout.addWidget(name)
        layout.addWidget(self.meter, 1)
        layout.addWidget(self.verdict, 1)

    def show_block_level(self, rms: float) -> None:
        self.meter.setValue(level_percent(rms))
        self._loud_blocks = self._loud_blocks + 1 if rms >= HEARD_RMS else 0
        if self._loud_blocks >= HEARD_BLOCKS and not self.heard:
            self.heard = True
            self.verdict.setText("Heard ✓")

    def show_problem(self, text: str) -> None:
        self.verdict.setText(text)
        self.verdict.setWordWrap(True)


class FirstRunGuide(QDialog):
    done_with = Signal(object)  # GuideResult

    def __init__(self, current_source: str, open_source: OpenSource, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Welcome to Captionist")
        self.setModal(False)
        self._open_source = open_source
        self._listening: asyncio.Task[None] | None = None
        self.checks: list[LevelCheck] = []
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._choice_page(current_source))
        self._level_page = QWidget(self)
        self._level_layout = QVBoxLayout(self._level_page)
        self.pages.addWidget(self._level_page)
        self.pages.addWidget(self._overlay_page())
        self.skip_button = QPushButton("Skip", self)
        self.back_button = QPushButton("Back", self)
        self.next_button = QPushButton("Next", self)
        self.next_button.setDefault(True)
        self.skip_button.clicked.connect(lambda: self._finish(completed=False))
        self.back_button.clicked.connect(lambda: self.go(self.pages.currentIndex() - 1))
        self.next_button.clicked.connect(self._next)
        buttons = QHBoxLayout()
        buttons.addWidget(self.skip_button)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addLayout(buttons)
        self.resize(520, 320)
        self.go(0)

    # -- pages -----------------------------------------------------------------------------
    def _choice_page(self, current: str) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("<b>What should Captionist caption?</b>", page))
        self.choice = QButtonGroup(page)
        for key, title, hint in CHOICES:
            button = QRadioButton(title, page)
            button.setProperty("source", key)
            button.setAccessibleDescription(hint)
            button.setChecked(key == current)
            self.choice.addButton(button)
            layout.addWidget(button)
            note = QLabel(hint, page)
            note.setIndent(24)
            layout.addWidget(note)
        if self.choice.checkedButton() is None:
            self.choice.buttons()[0].setChecked(True)
        layout.addStretch(1)
        return page

    def _overlay_page(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        text = QLabel(
            "<b>Captions float over your other windows</b><br>"
            "The caption window sits low in the middle of your screen. Drag it anywhere, "
            "and drag its corner to resize it: it remembers where you left it.<br><br>"
            "Show or hide it with <b>Ctrl+Shift+O</b>. Read back a few lines with "
            "<b>Ctrl+Shift+Up</b>; <b>Esc</b> returns to live.<br><br>"
            "Click-through lets your clicks pass to the window underneath (the call's buttons, "
            "say). Turn it on or off at any time with <b>Ctrl+Shift+T</b>.",
            page,
        )
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        self.click_through = QCheckBox("Make the captions click-through", page)
        layout.addWidget(text)
        layout.addWidget(self.click_through)
        layout.addStretch(1)
        return page

    def chosen_source(self) -> str:
        button = self.choice.checkedButton()
        return str(button.property("source")) if button is not None else "system"

    # -- navigation ------------------------------------------------------------------------
    def go(self, index: int) -> None:
        index = max(0, min(index, self.pages.count() - 1))
        if self.pages.currentIndex() == 1 and index != 1:
            self._stop_listening()
        self.pages.setCurrentIndex(index)
        self.back_button.setEnabled(index > 0)
        self.next_button.setText("Done" if index == self.pages.count() - 1 else "Next")
        if index == 1:
            self._start_listening()

    def _next(self) -> None:
        if self.pages.currentIndex() == self.pages.count() - 1:
            self._finish(completed=True)
        else:
            self.go(self.pages.currentIndex() + 1)

    def _finish(self, *, completed: bool) -> None:
        self._stop_listening()
        self.done_with.emit(
            GuideResult(self.chosen_source(), self.click_through.isChecked(), completed)
        )
        self.accept()

    def reject(self) -> None:  # Esc or the window's close button: as Skip
        self._stop_listening()
        self.done_with.emit(GuideResult(self.chosen_source(), False, False))
        super().reject()

    # -- the level check -------------------------------------------------------------------
    def _start_listening(self) -> None:
        while self._level_layout.count():
            item = self._level_layout.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()
        kind = self.chosen_source()
        sides = [("system", "The others"), ("microphone", "You")]
        wanted = [s for s in sides if kind == "both" or s[0] == kind]
        prompt = QLabel(
            "<b>Let's check Captionist hears you.</b><br>"
            + (
                "Play some sound on this computer (a video, the call). "
                if kind != "microphone"
                else ""
            )
            + ("Say a few words. " if kind != "system" else ""),
            self._level_page,
        )
        prompt.setWordWrap(True)
        self._level_layout.addWidget(prompt)
        self.checks = [LevelCheck(side, title, self._level_page) for side, title in wanted]
        for check in self.checks:
            self._level_layout.addWidget(check)
        self._level_layout.addStretch(1)
        self._listening = asyncio.ensure_future(self._listen())

    async def _listen(self) -> None:
        await asyncio.gather(*(self._listen_to(check) for check in self.checks))

    async def _listen_to(self, check: LevelCheck) -> None:
        try:
            source = await self._open_source(check.side)
        except AudioDeviceError as exc:
            check.show_problem(f"{exc} (Settings → Audio chooses another device)")
            return
        opening = asyncio.ensure_future(source.start())
        try:
            # Shielded: a page left while the device opens (in a worker thread) must still
            # close it once it is open, or the microphone stays in use until the app quits.
            await asyncio.shield(opening)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await opening
                await source.stop()
            raise
        except AudioDeviceError as exc:
            check.show_problem(f"{exc} (Settings → Audio chooses another device)")
            return
        try:
            async for block in source.blocks():
                rms = float((block.astype("float64") ** 2).mean() ** 0.5) if block.size else 0.0
                check.show_block_level(rms)
        finally:
            await source.stop()

    def _stop_listening(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            self._listening = None

    @property
    def listening(self) -> asyncio.Task[None] | None:
        return self._listening


def wait_cancelled(task: asyncio.Task[None] | None) -> Awaitable[None]:
    """For tests and quitting: the level check's task, finished (its devices closed)."""

    async def wait() -> None:
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return wait()


def offer_first_run(controller: AppController) -> FirstRunGuide:
    """Show the guide (non-modal); its answer is saved and applied, and it is not shown again
    whether it was completed or skipped."""
    from app.audio.live import find_live_source

    window = controller.window

    # The settings are read when used, never kept: Settings → OK (which the guide's own
    # advice may send the user to) replaces the controller's object.
    async def open_source(side: str) -> AudioSource:
        settings = controller.settings
        return await find_live_source(side, settings.microphone_id, settings.system_id)

    guide = FirstRunGuide(controller.settings.source, open_source, window)

    def done(result: GuideResult) -> None:
        settings = controller.settings
        settings.source = result.source
        settings.first_run_done = True
        controller.store.save_app(settings)
        window.source_combo.setCurrentIndex(max(0, window.source_combo.findData(result.source)))
        if result.click_through:
            controller.set_click_through(True)

    guide.done_with.connect(done)
    guide.show()
    return guide
