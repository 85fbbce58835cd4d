"""The Settings dialog: overlay look, audio devices, speech engine and accuracy, vocabulary,
transcripts folder."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.audio.devices import CaptureDevice, DeviceList
from app.protocol.params import MAX_SPEAKERS
from app.services.model_cost import cost_note
from app.services.settings import FADE_MAX_S, FONT_SIZE_PT, LINES, AppSettings, OverlayLook
from app.ui.overlay.presets import CUSTOM, PRESETS, preset_name, with_preset
from app.ui.overlay.share_hiding import share_hiding_checkbox
from app.ui.settings.vocabulary import VocabularyList
from app.ui.settings.widgets import ColourButton, note

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
KEEP_SESSIONS = ((0, "Forever"), (7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "365 days"))
# The Accuracy choice, stored as the settings' `model`. Auto is resolved by the engine loader.
ACCURACY = (
    ("auto", "Auto: the better model when this computer keeps up"),
    ("tiny.en", "Fast: Whisper tiny.en, English only, light on the CPU"),
    ("base", "Better: Whisper base, more accurate, about twice the CPU"),
)


class SettingsDialog(QDialog):
    """Edits copies of the settings; `result_settings()` returns them after Accepted.

    `devices` None and `has_api_key` None mean "still being asked" (pactl and the keyring
    answer in worker threads): `show_devices` and `show_key_state` fill them in later."""

    def __init__(
        self,
        app_settings: AppSettings,
        look: OverlayLook,
        devices: list[CaptureDevice] | None,
        parent: QWidget | None = None,
        *,
        has_api_key: bool | None = False,
        engine_note: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")  # Qt adds " — Captionist"
        self._has_key = has_api_key
        self._engine_note = engine_note  # why the loaded engine runs this model, if it says
        self._app = replace(app_settings)
        self._look = replace(look)
        tabs = QTabWidget(self)
        tabs.addTab(self._overlay_tab(), "Captions overlay")
        tabs.addTab(self._audio_tab(devices), "Audio")
        tabs.addTab(self._engine_tab(), "Speech engine")
        tabs.addTab(self._vocabulary_tab(), "Vocabulary")
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
        low, high = FONT_SIZE_PT
        self.font_size = QSpinBox(minimum=low, maximum=high, value=self._look.font_size)
        self.font_size.setSuffix(" pt")
        self.lines = QSpinBox(minimum=LINES[0], maximum=LINES[1], value=self._look.lines)
        self.opacity = QDoubleSpinBox(
            minimum=0.0, maximum=1.0, singleStep=0.05, value=self._look.background_opacity
        )
        self.fade = QDoubleSpinBox(
            minimum=0.0,
            maximum=FADE_MAX_S,
            singleStep=0.5,
            value=self._look.fade_after_s,
            suffix=" s",
        )
        self.fade.setSpecialValueText("Never")  # 0 s: the captions stay until the next words
        self.text_colour = ColourButton(self._look.text_color)
        self.interim_colour = ColourButton(self._look.interim_color)
        self.background_colour = ColourButton(self._look.background_color)
        self.preset = QComboBox()
        self.preset.addItems([preset.name for preset in PRESETS])
        self.preset.currentTextChanged.connect(self._use_preset)
        for button in (self.text_colour, self.interim_colour, self.background_colour):
            button.changed.connect(self._show_preset)
        self._show_preset()
        self.outline = QCheckBox("Outline around the letters")
        self.outline.setToolTip("An edge in the opposite colour: easier to read over a busy screen")
        self.outline.setChecked(self._look.outline)
        self.click_through = QCheckBox("Clicks pass through the overlay (Ctrl+Shift+T)")
        self.click_through.setChecked(self._look.click_through)
        form.addRow("Font size", self.font_size)
        form.addRow("Lines", self.lines)
        form.addRow("Colours", self.preset)
        form.addRow("Settled text", self.text_colour)
        form.addRow("Interim text", self.interim_colour)
        form.addRow("Background", self.background_colour)
        form.addRow("Background opacity", self.opacity)
        form.addRow(self.outline)
        form.addRow("Fade after silence", self.fade)
        form.addRow(self.click_through)
        self.hide_from_share = share_hiding_checkbox(self._look.hide_from_share)
        form.addRow(self.hide_from_share)
        return page

    def _colours(self) -> OverlayLook:
        return replace(
            self._look,
            text_color=self.text_colour.colour,
            interim_color=self.interim_colour.colour,
            background_color=self.background_colour.colour,
        )

    def _use_preset(self, name: str) -> None:
        look = with_preset(self._colours(), name)
        for button, colour in (
            (self.text_colour, look.text_color),
            (self.interim_colour, look.interim_color),
            (self.background_colour, look.background_color),
        ):
            with QSignalBlocker(button):  # one look at the preset once all three are set
                button.set_colour(colour)
        self._show_preset()

    def _show_preset(self) -> None:
        """The preset the three colours make, "Custom" (offered only then) for any others."""
        name = preset_name(self._colours())
        custom = self.preset.findText(CUSTOM)
        with QSignalBlocker(self.preset):  # showing the preset is not choosing it
            if name == CUSTOM and custom < 0:
                self.preset.addItem(CUSTOM)
            elif name != CUSTOM and custom >= 0:
                self.preset.removeItem(custom)
            self.preset.setCurrentText(name)

    @staticmethod
    def _device_combo(current: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem("Default", "")
        if current:  # listed as saved until the devices arrive, so an early OK keeps it
            combo.addItem(current, current)
        combo.setCurrentIndex(combo.count() - 1)
        return combo

    def show_devices(self, listing: DeviceList) -> None:
        for combo, kind in ((self.microphone, "microphone"), (self.system, "system")):
            current = combo.currentData()
            combo.clear()
            combo.addItem("Default", "")
            for device in listing.devices:
                if device.kind == kind:
                    combo.addItem(device.label, device.id)
            combo.setCurrentIndex(max(0, combo.findData(current)))
        problem = listing.problem
        self.devices_note.setText(f"The sound server's devices are not listed: {problem}.")
        self.devices_note.setVisible(bool(problem))

    def _audio_tab(self, devices: list[CaptureDevice] | None) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.microphone = self._device_combo(self._app.microphone_id)
        self.system = self._device_combo(self._app.system_id)
        self.devices_note = note("Looking for audio devices…")
        if devices is not None:
            self.show_devices(DeviceList(devices))
        self.label_speakers = QCheckBox("Tell the others apart: Speaker 1, Speaker 2 …")
        self.label_speakers.setChecked(self._app.label_speakers)
        self.label_speakers.setToolTip(
            "The voices in the system audio (or a recording) get a label each; your own "
            'microphone stays "You". Takes effect at the next Start.'
        )
        self.expected_speakers = QSpinBox(
            minimum=0, maximum=MAX_SPEAKERS, value=self._app.expected_speakers
        )
        self.expected_speakers.setSpecialValueText("Don't know")  # shown for 0: no limit
        self.expected_speakers.setToolTip(
            "How many people you will hear besides yourself, if you know: the local engine then "
            "never splits the voices into more labels (Deepgram counts them itself). Takes "
            "effect at the next Start."
        )
        self.expected_speakers.setEnabled(self.label_speakers.isChecked())
        self.label_speakers.toggled.connect(self.expected_speakers.setEnabled)
        form.addRow("Microphone (you)", self.microphone)
        form.addRow("System audio (others)", self.system)
        form.addRow(self.devices_note)
        form.addRow(self.label_speakers)
        form.addRow("Expected number of speakers", self.expected_speakers)
        form.addRow(
            note(
                "System audio is what your computer plays: the other people in a call. On Linux it "
                "is the monitor of your output device, on Windows the loopback of the default "
                "output, on macOS ScreenCaptureKit (or a loopback driver such as BlackHole)."
            )
        )
        return page

    def _engine_tab(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.accuracy = QComboBox()
        for value, text in ACCURACY:
            self.accuracy.addItem(text, value)
        if self.accuracy.findData(self._app.model) < 0:
            self.use_model_folder(self._app.model)  # set by an advanced user: keep it
        self.accuracy.setCurrentIndex(self.accuracy.findData(self._app.model))
        folder = QPushButton("Model folder…")
        folder.setToolTip("a CTranslate2 Whisper model folder on this computer (advanced)")
        folder.clicked.connect(self._choose_model_folder)
        accuracy_row = QHBoxLayout()
        accuracy_row.addWidget(self.accuracy, 1)
        accuracy_row.addWidget(folder)
        self.selection_note = note(self._engine_note)
        self.selection_note.setVisible(bool(self._engine_note))
        self.cost_note = note("")  # Better where this computer cannot keep up with it
        self.cost_note.setVisible(False)
        self._better_cost: float | None = None
        self.accuracy.currentIndexChanged.connect(lambda _: self._show_cost_note())
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
        self.show_key_state(self._has_key)
        self.api_key.setEnabled(self.engine.currentData() == "deepgram")
        self.engine.currentIndexChanged.connect(
            lambda _: self.api_key.setEnabled(self.engine.currentData() == "deepgram")
        )
        form.addRow("Engine", self.engine)
        form.addRow("Deepgram API key", self.api_key)
        form.addRow("Accuracy", accuracy_row)
        form.addRow("", self.cost_note)
        form.addRow("", self.selection_note)
        form.addRow("Language", self.language)
        form.addRow(
            note(
                "Changes to the engine, accuracy or language apply at the next Start, without "
                "restarting the app. Fast (tiny.en) understands English only: for another "
                "language choose Better. The API key is kept in the OS keyring, never in the "
                "settings file."
            )
        )
        return page

    def show_better_cost(self, figure: float | None) -> None:
        """What the CPU probe measured for Better here (None: never measured)."""
        self._better_cost = figure
        self._show_cost_note()

    def _show_cost_note(self) -> None:
        text = cost_note(str(self.accuracy.currentData()), self._better_cost)
        self.cost_note.setText(text)
        self.cost_note.setVisible(bool(text))

    def show_key_state(self, saved: bool | None, problem: str = "") -> None:
        """Whether the OS keyring holds a key (None: not known yet), or why it cannot say."""
        if problem:
            text = f"the OS keyring cannot be read ({problem}); paste a key to try saving it"
        elif saved is None:
            text = "checking the OS keyring…"
        else:
            text = "saved in the OS keyring" if saved else "paste a Deepgram API key"
        self.api_key.setPlaceholderText(text)

    def use_model_folder(self, folder: str) -> None:
        """Offer and select a local model folder as the model."""
        if self.accuracy.findData(folder) < 0:
            self.accuracy.addItem(f"Model folder: {folder}", folder)
        self.accuracy.setCurrentIndex(self.accuracy.findData(folder))

    def _choose_model_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Whisper model folder (CTranslate2)")
        if folder:
            self.use_model_folder(folder)

    def _vocabulary_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(
            note(
                "Names and words the captions should get right: people, products, jargon. "
                "They go to the speech engine at each Start (Deepgram receives them too)."
            )
        )
        self.vocabulary = VocabularyList(self._app.vocabulary)
        layout.addWidget(self.vocabulary, 1)
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
        self.keep_sessions = QComboBox()
        for days, text in KEEP_SESSIONS:
            self.keep_sessions.addItem(text, days)
        if self.keep_sessions.findData(self._app.keep_sessions_days) < 0:  # edited by hand
            self.keep_sessions.addItem(
                f"{self._app.keep_sessions_days} days", self._app.keep_sessions_days
            )
        self.keep_sessions.setCurrentIndex(
            self.keep_sessions.findData(self._app.keep_sessions_days)
        )
        self.keep_sessions.setToolTip(
            "Saved sessions older than this are deleted for good, at start and once a day; "
            "never one open in Captionist. You are asked before the first delete."
        )
        form.addRow("Keep sessions", self.keep_sessions)
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
            outline=self.outline.isChecked(),
            hide_from_share=self.hide_from_share.isChecked(),
        )
        app = replace(
            self._app,
            microphone_id=self.microphone.currentData(),
            system_id=self.system.currentData(),
            engine=self.engine.currentData(),
            model=self.accuracy.currentData(),
            language=self.language.currentData(),
            vocabulary=self.vocabulary.terms(),
            export_folder=self.export_folder.text(),
            label_speakers=self.label_speakers.isChecked(),
            expected_speakers=self.expected_speakers.value(),
            keep_sessions_days=self.keep_sessions.currentData(),
        )
        return app, look
