"""The main window: transcript panel, source picker, start/pause/stop, search, status bar.

It holds no captioning logic: it shows state and emits what the user asked for; the
controller does the work.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.audio.file_source import open_dialog_filter
from app.domain.transcript import Segment
from app.services.caption_events import CaptionState
from app.ui.accessibility import CaptionAnnouncer, PaletteFollower, describe
from app.ui.transcript.model import SegmentRole, TranscriptFilter, TranscriptModel
from app.ui.transcript.view import TranscriptView

SOURCES = (
    ("system", "System audio (others)"),
    ("microphone", "Microphone (you)"),
    ("both", "Both (you and others)"),
)


STATE_SHOWN = {
    CaptionState.IDLE: "Ready",
    CaptionState.LOADING: "Loading model…",
    CaptionState.CONNECTING: "Connecting…",
    CaptionState.STREAMING: "Captioning",
    CaptionState.RECONNECTING: "Reconnecting (audio is kept)",
    CaptionState.PAUSED: "Paused",
    CaptionState.STOPPING: "Finishing…",
    CaptionState.ERROR: "Error",
}
LEVEL_FLOOR_DB = -60.0  # the meter's empty end: quieter than any room


def level_percent(rms: float) -> int:
    if rms <= 0:
        return 0
    decibels = 20 * math.log10(min(rms, 1.0))
    return round(max(0.0, (decibels - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB) * 100)


class MainWindow(QMainWindow):
    start_requested = Signal(str)  # source kind
    pause_requested = Signal()
    stop_requested = Signal()
    file_requested = Signal(Path)
    export_requested = Signal()
    settings_requested = Signal()
    restore_requested = Signal()
    library_requested = Signal()
    rename_requested = Signal(str)  # the label of a speaker to name ("Speaker 2", "Others")
    edit_requested = Signal(int)  # the model row of a line to correct
    overlay_toggled = Signal(bool)
    click_through_toggled = Signal(bool)
    about_requested = Signal()
    quit_requested = Signal()

    def __init__(self, model: TranscriptModel) -> None:
        super().__init__()
        self.setWindowTitle("Captionist")
        self.resize(760, 560)
        self.model = model
        self.proxy = TranscriptFilter(model, self)
        self._build_actions()
        self._build_toolbar()
        self._build_central()
        self._build_status()
        self._build_menus()
        self.set_running(CaptionState.IDLE, "")
        for changed in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            changed.connect(self._offer_export)
        self._offer_export()
        describe(self, self.source_combo)  # screen readers: every control named...
        self.announcer = CaptionAnnouncer(model, self.view)  # ...every caption announced
        self.palette_follower = PaletteFollower(self, self.autosave_label)  # dark, light, HC

    # -- construction ---------------------------------------------------------------------
    def _action(
        self,
        text: str,
        shortcut: str | QKeySequence.StandardKey | None,
        slot: Callable[[], object],
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(
            f"{tip or text} ({action.shortcut().toString()})" if shortcut else tip or text
        )
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.start_action = self._action("Start", "Ctrl+R", self._start, "Start captioning")
        self.pause_action = self._action("Pause", "Ctrl+P", self.pause_requested.emit)
        self.stop_action = self._action("Stop", "Ctrl+.", self.stop_requested.emit)
        self.open_action = self._action(
            "Open audio file…",
            QKeySequence.StandardKey.Open,
            self._open_file,
            "Caption a recording",
        )
        self.export_action = self._action("Export…", "Ctrl+E", self.export_requested.emit)
        self.find_action = self._action("Find", QKeySequence.StandardKey.Find, self._find)
        self.copy_action = self._action("Copy", QKeySequence.StandardKey.Copy, self.copy_selection)
        self.overlay_action = self._action(
            "Show captions overlay", "Ctrl+Shift+O", self._overlay_clicked
        )
        self.overlay_action.setCheckable(True)
        self.click_action = self._action(
            "Click-through overlay", "Ctrl+Shift+T", self._click_through_clicked
        )
        self.click_action.setCheckable(True)
        self.settings_action = self._action(
            "Settings…", QKeySequence.StandardKey.Preferences, self.settings_requested.emit
        )
        self.restore_action = self._action(
            "Restore last session", None, self.restore_requested.emit
        )
        self.library_action = self._action(
            "Library…", "Ctrl+L", self.library_requested.emit, "Saved sessions: search, open"
        )
        self.quit_action = self._action(
            "Quit", QKeySequence.StandardKey.Quit, self.quit_requested.emit
        )
        self.about_action = self._action("About Captionist", None, self.about_requested.emit)
        self.shortcuts_action = self._action("Keyboard shortcuts", "F1", self.show_shortcuts)
        self.rename_action = self._action(
            "Rename speaker…", "F2", self._rename_selected, "Name the speaker of this line"
        )
        # F2 stays Rename; Ctrl+E is Export.
        self.edit_action = self._action(
            "Edit line…", "Ctrl+Shift+E", self._edit_selected, "Correct misheard words"
        )
        self.addActions([self.find_action, self.copy_action, self.rename_action, self.edit_action])
        icons = {
            self.start_action: QStyle.StandardPixmap.SP_MediaPlay,
            self.pause_action: QStyle.StandardPixmap.SP_MediaPause,
            self.stop_action: QStyle.StandardPixmap.SP_MediaStop,
            self.open_action: QStyle.StandardPixmap.SP_DialogOpenButton,
            self.export_action: QStyle.StandardPixmap.SP_DialogSaveButton,
        }
        for action, icon in icons.items():
            action.setIcon(self.style().standardIcon(icon))

    def _build_toolbar(self) -> None:
        bar = QToolBar("Captioning", self)
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.source_combo = QComboBox(bar)
        for key, text in SOURCES:
            self.source_combo.addItem(text, key)
        self.source_combo.setToolTip("What to caption")
        bar.addWidget(self.source_combo)
        for action in (self.start_action, self.stop_action, self.pause_action):
            bar.addAction(action)
        # Where the eye is while captioning: the meter proves the chosen source hears something.
        self.level_meter = QProgressBar(bar)
        self.level_meter.setRange(0, 100)
        self.level_meter.setTextVisible(False)
        self.level_meter.setFixedSize(120, 14)
        self.level_meter.setToolTip("Input level")
        bar.addWidget(self.level_meter)
        bar.addSeparator()
        bar.addAction(self.open_action)
        bar.addAction(self.export_action)
        self.addToolBar(bar)

    def _build_central(self) -> None:
        central = QWidget(self)
        layout = QVBoxLayout(central)
        self.search = QLineEdit(central)
        self.search.setPlaceholderText("Search the transcript (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        layout.addWidget(self.search)
        self.view = TranscriptView(central)
        self.view.setModel(self.proxy)
        self.search.textChanged.connect(self.view.set_query)
        self.view.doubleClicked.connect(self._edit_at)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        layout.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.interim_label = QLabel(central)
        self.interim_label.setWordWrap(True)
        self.interim_label.setStyleSheet("color: palette(mid); font-style: italic;")
        row.addWidget(self.interim_label, 1)
        self.live_button = QPushButton("Jump to live", central)
        self.live_button.setVisible(False)
        self.live_button.clicked.connect(self.follow_live)
        self.view.following_changed.connect(lambda on: self.live_button.setVisible(not on))
        row.addWidget(self.live_button)
        layout.addLayout(row)
        self.setCentralWidget(central)

    def _build_status(self) -> None:
        status = self.statusBar()
        self.state_label = QLabel()
        # Stays until the journal can write again: a status message would scroll away.
        self.autosave_label = QLabel()
        self.autosave_label.setObjectName("autosaveProblem")
        self.autosave_label.setAccessibleName("Autosave problem")
        self.autosave_label.hide()
        self.engine_label = QLabel()
        self.latency_label = QLabel()
        self.echo_label = QLabel()
        self.echo_label.setToolTip(
            "Both mode: sentences the microphone heard from the speakers, shown once as Others"
        )
        self.echo_label.hide()
        self.echo_cancel_label = QLabel()
        self.echo_cancel_label.setToolTip(
            "Both mode: whether the sound server removes the call from the microphone, or"
            " only echoed sentences are hidden"
        )
        self.echo_cancel_label.hide()
        status.addWidget(self.state_label, 1)
        for widget in (
            self.autosave_label,
            self.engine_label,
            self.latency_label,
            self.echo_label,
            self.echo_cancel_label,
        ):
            status.addPermanentWidget(widget)

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for action in (self.open_action, self.export_action, self.restore_action):
            file_menu.addAction(action)
        file_menu.addAction(self.library_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        captions = menu.addMenu("&Captions")
        for action in (self.start_action, self.pause_action, self.stop_action):
            captions.addAction(action)
        captions.addSeparator()
        captions.addAction(self.rename_action)
        captions.addAction(self.edit_action)
        view = menu.addMenu("&View")
        self.view_menu = view  # the overlay's reading-back keys are added to it
        for action in (self.overlay_action, self.click_action, self.find_action):
            view.addAction(action)
        view.addSeparator()
        view.addAction(self.settings_action)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)

    # -- user actions ---------------------------------------------------------------------
    def _start(self) -> None:
        self.start_requested.emit(self.source_combo.currentData())

    def _open_file(self) -> None:
        wanted = open_dialog_filter()
        path, _ = QFileDialog.getOpenFileName(self, "Caption a recording", "", wanted)
        if path:
            self.file_requested.emit(Path(path))

    def _overlay_clicked(self) -> None:
        self.overlay_toggled.emit(self.overlay_action.isChecked())

    def _click_through_clicked(self) -> None:
        self.click_through_toggled.emit(self.click_action.isChecked())

    def _find(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def selected_segments(self) -> list[Segment]:
        rows = sorted(self.view.selectionModel().selectedRows(), key=QModelIndex.row)
        return [self.proxy.data(index, SegmentRole) for index in rows]

    def copy_selection(self) -> None:
        lines = [
            self.proxy.data(i, Qt.ItemDataRole.DisplayRole)
            for i in sorted(self.view.selectionModel().selectedRows(), key=QModelIndex.row)
        ]
        if lines:
            QGuiApplication.clipboard().setText("\n".join(lines))

    def _context_menu(self, position: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction(self.copy_action)
        label = self._label_at(self.view.indexAt(position))
        if label:
            rename = menu.addAction(f"Rename “{self.model.shown(label)}”…")
            rename.triggered.connect(lambda: self.rename_requested.emit(label))
            menu.addAction(self.edit_action)
        menu.exec(self.view.viewport().mapToGlobal(position))

    def _rename_selected(self) -> None:
        label = self._label_at(self.view.currentIndex())
        if label:
            self.rename_requested.emit(label)

    def _edit_selected(self) -> None:
        self._edit_at(self.view.currentIndex())

    def _edit_at(self, index: QModelIndex) -> None:
        if index.isValid():
            self.edit_requested.emit(self.proxy.mapToSource(index).row())

    def _label_at(self, index: QModelIndex) -> str:
        """The speaker label of the row at `index` ("" for none, or a gap marker)."""
        segment = index.data(SegmentRole) if index.isValid() else None
        return segment.source if isinstance(segment, Segment) and not segment.gap_s else ""

    # -- autoscroll (app/ui/transcript/view.py) ------------------------------------------
    def follow_live(self) -> None:
        self.view.follow_live()

    @property
    def following(self) -> bool:
        return self.view.following

    # -- state shown --------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        from app.ui.shortcuts import ShortcutsDialog

        ShortcutsDialog(self).show()

    def set_running(self, state: CaptionState, detail: str) -> None:
        running = state.running
        self.start_action.setEnabled(not state.busy)  # a model loading for a Start: wait
        self.open_action.setEnabled(not state.busy)
        self.source_combo.setEnabled(not state.busy)
        self.pause_action.setEnabled(state in (CaptionState.STREAMING, CaptionState.PAUSED))
        self.pause_action.setText("Resume" if state is CaptionState.PAUSED else "Pause")
        self.stop_action.setEnabled(running)
        # One obvious button: Start while idle, Stop while captioning (menu and toolbar).
        self.start_action.setVisible(not running)
        self.stop_action.setVisible(running)
        text = STATE_SHOWN[state]
        self.state_label.setText(f"{text}: {detail}" if detail else text)
        if state is not CaptionState.STREAMING:
            self.interim_label.clear()

    def set_interim(self, text: str) -> None:
        self.interim_label.setText(text)

    def _offer_export(self) -> None:
        """Export only once there is a line to export (its tooltip says why not before)."""
        lines = self.model.rowCount() > 0
        self.export_action.setEnabled(lines)
        self.export_action.setToolTip(
            "Save the transcript as text, subtitles, JSON or Markdown (Ctrl+E)"
            if lines
            else "Nothing to export yet: the transcript is empty"
        )

    def set_engine(self, text: str, note: str | None = None) -> None:
        """The live engine; `note` (why this model, if the engine says) becomes the tooltip."""
        self.engine_label.setText(text)
        if note is not None:
            self.engine_label.setToolTip(note)

    def set_autosave_problem(self, message: str | None) -> None:
        """Show why autosave fails until it works again (None)."""
        self.autosave_label.setText(message or "")
        self.autosave_label.setToolTip(message or "")
        self.autosave_label.setVisible(message is not None)

    def set_latency(self, seconds: float | None) -> None:
        self.latency_label.setText("" if seconds is None else f"delay {seconds:.1f} s")

    def set_echoes_hidden(self, count: int) -> None:
        self.echo_label.setText(f"{count} echoed sentence{'' if count == 1 else 's'} hidden")
        self.echo_label.setVisible(count > 0)

    def set_echo_cancelling(self, how: str) -> None:
        """Both mode's echo cancelling ("" outside Both mode: hidden)."""
        self.echo_cancel_label.setText(f"Echo cancelling: {how}")
        self.echo_cancel_label.setVisible(bool(how))

    def set_level(self, level: float) -> None:
        """`level`: RMS 0..1, shown on a -60..0 dBFS scale (speech sits around the middle)."""
        self.level_meter.setValue(level_percent(level))

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing the window hides it when a tray icon exists; the controller decides.
        self.quit_requested.emit()
        event.ignore()
