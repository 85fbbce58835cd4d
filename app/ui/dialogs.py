"""Settings and About dialogs."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.audio.devices import CaptureDevice
from app.logs import log_dir
from app.models.registry import KNOWN_MODELS
from app.resources import resources_dir
from app.ui.settings_store import AppSettings, OverlayLook

LANGUAGES = (
    ("en", "English"),
    ("de", "German"),
    ("fr", "French"),
    ("es", "Spanish"),
    ("it", "Italian"),
    ("pt", "Portuguese"),
    ("nl", "Dutch"),
    ("ja", "Japanese"),
    ("zh", "Chinese"),
)


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class ColourButton(QPushButton):
    def __init__(self, colour: str) -> None:
        super().__init__()
        self.colour = colour
        self.clicked.connect(self._pick)
        self._show()

    def _show(self) -> None:
        self.setText(self.colour)
        self.setStyleSheet(
            f"background: {self.colour}; color: "
            f"{'#000' if QColor(self.colour).lightness() > 128 else '#fff'};"
        )

    def _pick(self) -> None:
        chosen = QColorDialog.getColor(QColor(self.colour), self, "Choose a colour")
        if chosen.isValid():
            self.colour = chosen.name()
            self._show()


class SettingsDialog(QDialog):
    """Edits copies of the settings; `result_settings()` returns them after Accepted."""

    def __init__(
        self,
        app_settings: AppSettings,
        look: OverlayLook,
        devices: list[CaptureDevice],
        parent: QWidget | None = None,
        *,
        has_api_key: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Captionist settings")
        self._has_key = has_api_key
        self._app = replace(app_settings)
        self._look = replace(look)
        tabs = QTabWidget(self)
        tabs.addTab(self._overlay_tab(), "Captions overlay")
        tabs.addTab(self._audio_tab(devices), "Audio")
        tabs.addTab(self._engine_tab(), "Speech engine")
        tabs.addTab(self._files_tab(), "Transcripts")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(buttons)

    def _overlay_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.font_size = QSpinBox(minimum=10, maximum=72, value=self._look.font_size)
        self.lines = QSpinBox(minimum=1, maximum=4, value=self._look.lines)
        self.opacity = QDoubleSpinBox(
            minimum=0.0, maximum=1.0, singleStep=0.05, value=self._look.background_opacity
        )
        self.fade = QDoubleSpinBox(
            minimum=0.0, maximum=60.0, singleStep=0.5, value=self._look.fade_after_s, suffix=" s"
        )
        self.fade.setSpecialValueText("never")
        self.text_colour = ColourButton(self._look.text_color)
        self.interim_colour = ColourButton(self._look.interim_color)
        self.background_colour = ColourButton(self._look.background_color)
        self.click_through = QCheckBox("Clicks pass through the overlay (Ctrl+Shift+T)")
        self.click_through.setChecked(self._look.click_through)
        form.addRow("Font size", self.font_size)
        form.addRow("Lines", self.lines)
        form.addRow("Settled text", self.text_colour)
        form.addRow("Interim text", self.interim_colour)
        form.addRow("Background", self.background_colour)
        form.addRow("Background opacity", self.opacity)
        form.addRow("Fade after silence", self.fade)
        form.addRow(self.click_through)
        return page

    def _device_combo(self, devices: list[CaptureDevice], kind: str, current: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem("Default", "")
        for device in devices:
            if device.kind == kind:
                combo.addItem(device.label, device.id)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        return combo

    def _audio_tab(self, devices: list[CaptureDevice]) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.microphone = self._device_combo(devices, "microphone", self._app.microphone_id)
        self.system = self._device_combo(devices, "system", self._app.system_id)
        form.addRow("Microphone (you)", self.microphone)
        form.addRow("System audio (others)", self.system)
        form.addRow(
            _note(
                "System audio is what your computer plays: the other people in a call. On Linux it "
                "is the monitor of your output device. On Windows it needs WASAPI loopback and on "
                "macOS a loopback driver such as BlackHole; both are untested so far."
            )
        )
        return page

    def _engine_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.model = QComboBox()
        for spec in KNOWN_MODELS.values():
            self.model.addItem(f"{spec.name}: {spec.description}", spec.name)
        self.model.setCurrentIndex(max(0, self.model.findData(self._app.model)))
        self.language = QComboBox()
        for code, name in LANGUAGES:
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(self._app.language)))
        self.engine = QComboBox()
        self.engine.addItem("Local: offline, on this computer", "whisper")
        self.engine.addItem("Deepgram (cloud), local if it fails", "deepgram")
        self.engine.setCurrentIndex(max(0, self.engine.findData(self._app.engine)))
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText(
            "saved in the OS keyring" if self._has_key else "paste a Deepgram API key"
        )
        self.api_key.setEnabled(self.engine.currentData() == "deepgram")
        self.engine.currentIndexChanged.connect(
            lambda _: self.api_key.setEnabled(self.engine.currentData() == "deepgram")
        )
        form.addRow("Engine", self.engine)
        form.addRow("Deepgram API key", self.api_key)
        form.addRow("Local model", self.model)
        form.addRow("Language", self.language)
        form.addRow(
            _note(
                "English-only models (.en) always caption in English. The API key is kept in "
                "the OS keyring, never in the settings file. A new engine or model is used "
                "after a restart."
            )
        )
        return page

    @property
    def new_api_key(self) -> str:
        """A key typed in this dialog (empty: keep the stored one)."""
        return self.api_key.text().strip()

    def _files_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        row = QHBoxLayout()
        self.export_folder = QLineEdit(self._app.export_folder)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_folder)
        row.addWidget(self.export_folder, 1)
        row.addWidget(browse)
        form.addRow("Export folder", row)
        return page

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export folder", self.export_folder.text())
        if folder:
            self.export_folder.setText(folder)

    def result_settings(self) -> tuple[AppSettings, OverlayLook]:
        look = replace(
            self._look,
            font_size=self.font_size.value(),
            lines=self.lines.value(),
            background_opacity=round(self.opacity.value(), 2),
            fade_after_s=self.fade.value(),
            text_color=self.text_colour.colour,
            interim_color=self.interim_colour.colour,
            background_color=self.background_colour.colour,
            click_through=self.click_through.isChecked(),
        )
        app = replace(
            self._app,
            microphone_id=self.microphone.currentData(),
            system_id=self.system.currentData(),
            engine=self.engine.currentData(),
            model=self.model.currentData(),
            language=self.language.currentData(),
            export_folder=self.export_folder.text(),
        )
        return app, look


def about_text(model: str) -> str:
    return (
        f"<h3>Captionist {__version__}</h3>"
        "<p>Live captions for calls and meetings, offline by default.</p>"
        f"<p>Speech model: {model} (OpenAI Whisper weights, MIT licence; CTranslate2 "
        "conversion by Systran). Voice activity detection: Silero VAD (MIT).</p>"
        f"<p>Log file: {log_dir() / 'captionist.log'}</p>"
    )


class AboutDialog(QDialog):
    """Version, model, log file, and the licences of every bundled third-party part."""

    def __init__(self, model: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Captionist")
        self.resize(640, 520)
        layout = QVBoxLayout(self)
        header = QLabel(about_text(model))
        header.setWordWrap(True)
        header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(header)
        self.licences = QTextBrowser()
        path = resources_dir() / "licenses" / "THIRD-PARTY.md"
        try:
            self.licences.setMarkdown(path.read_text(encoding="utf-8"))
        except OSError:
            self.licences.setPlainText(f"The licence list is missing ({path}).")
        layout.addWidget(self.licences, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
