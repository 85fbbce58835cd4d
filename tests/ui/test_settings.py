"""Settings offscreen: the vocabulary list, the Accuracy choice, and an engine change taking
effect at the next Start (no restart), with real widgets, a real settings file and real
embedded servers."""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.services.caption_events import CaptionState

os.environ.setdefault("QT_API", "pyside6")
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel

from app.audio.file_source import DecodedAudio
from app.audio.replay import FileReplaySource
from app.client.streamer import StreamClient
from app.commands.embedded import embedded_server
from app.errors import ModelNotFound, ServerUnavailable
from app.protocol.params import MAX_SPEAKERS, StreamParams
from app.server.engines.base import Engine
from app.services.session.engine_host import EngineChoice, EngineHost
from app.services.settings import AppSettings, OverlayLook
from app.ui.controller import AppController
from app.ui.main_window import MainWindow
from app.ui.overlay.caption_overlay import CaptionOverlay
from app.ui.settings import SettingsDialog, VocabularyList
from app.ui.settings_store import SettingsStore
from app.ui.transcript.model import TranscriptModel
from tests.fakes import ScriptedEngine


@pytest.fixture
def store(tmp_path: Path) -> SettingsStore:
    return SettingsStore(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def reread(store: SettingsStore) -> SettingsStore:
    return SettingsStore(QSettings(store.qsettings.fileName(), QSettings.Format.IniFormat))


def tone(seconds: float) -> DecodedAudio:
    t = np.arange(int(seconds * 16000)) / 16000
    return DecodedAudio((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)


# -- the vocabulary list ------------------------------------------------------------------


def test_terms_are_added_trimmed_and_removed_and_a_refusal_says_why(qtbot) -> None:  # type: ignore[no-untyped-def]
    vocabulary = VocabularyList(("Acme Corp",))
    qtbot.addWidget(vocabulary)
    qtbot.keyClicks(vocabulary.entry, "  Kubernetes   operator ")
    qtbot.mouseClick(vocabulary.add_button, Qt.MouseButton.LeftButton)
    assert vocabulary.terms() == ("Acme Corp", "Kubernetes operator")
    assert vocabulary.entry.text() == ""  # ready for the next one
    qtbot.keyClicks(vocabulary.entry, "Acme Corp")
    qtbot.keyClick(vocabulary.entry, Qt.Key.Key_Return)
    assert vocabulary.terms() == ("Acme Corp", "Kubernetes operator")
    assert vocabulary.message.text() == "“Acme Corp” is already in the list."
    assert vocabulary.entry.text() == "Acme Corp"  # kept, so it can be corrected
    assert not vocabulary.add_term("x" * 101)
    assert vocabulary.message.text() == "Not added: must be 1 to 100 characters."
    vocabulary.list.item(0).setSelected(True)
    qtbot.mouseClick(vocabulary.remove_button, Qt.MouseButton.LeftButton)
    assert vocabulary.terms() == ("Kubernetes operator",)


def test_an_imported_file_skips_blank_lines_and_duplicates_and_says_what_it_skipped(
    qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    vocabulary = VocabularyList(("Acme Corp",))
    qtbot.addWidget(vocabulary)
    words = tmp_path / "words.txt"
    lines = ["Zed", "", "   ", "Acme Corp", "kubectl", "Zed", "bad\x07bell", "Łódź  "]
    words.write_text("\ufeff" + "\r\n".join(lines) + "\n", encoding="utf-8")  # BOM, CRLF
    assert vocabulary.import_file(words) == 3
    assert vocabulary.terms() == ("Acme Corp", "Zed", "kubectl", "Łódź")
    assert vocabulary.message.text() == (
        "Added 3 terms from words.txt; 2 already in the list; "
        "1 not added (line 7: must not contain control characters)."
    )


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.txt", None, "No such file or directory"),
        ("latin1.txt", "Zürich\n".encode("latin-1"), "it is not UTF-8 text"),
        ("folder", "dir", "Is a directory"),
    ],
)
def test_an_unreadable_file_is_reported_and_changes_nothing(
    qtbot, tmp_path: Path, name: str, content: bytes | str | None, reason: str
) -> None:  # type: ignore[no-untyped-def]
    vocabulary = VocabularyList(("Acme Corp",))
    qtbot.addWidget(vocabulary)
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    assert vocabulary.import_file(path) == 0
    assert vocabulary.message.text() == f"Could not read {name}: {reason}."
    assert vocabulary.terms() == ("Acme Corp",)


# -- the dialog and the settings file -------------------------------------------------------


def test_accuracy_and_vocabulary_are_saved_and_read_back(qtbot, store: SettingsStore) -> None:  # type: ignore[no-untyped-def]
    assert AppSettings().model == "auto"  # the default Accuracy
    note = "Auto chose base: it keeps real time with room to spare here"
    dialog = SettingsDialog(
        AppSettings(vocabulary=("Acme Corp",)), OverlayLook(), [], engine_note=note
    )
    qtbot.addWidget(dialog)
    accuracy = dialog.accuracy
    offered = [accuracy.itemData(i) for i in range(accuracy.count())]
    assert offered == ["auto", "tiny.en", "base"] and accuracy.currentData() == "auto"
    assert dialog.selection_note.text() == note and not dialog.selection_note.isHidden()
    notes = [label.text() for label in dialog.findChildren(QLabel)]
    assert any("apply at the next Start, without restarting" in text for text in notes)
    assert not any("restart." in text for text in notes)
    dialog.vocabulary.add_term("Zed")
    accuracy.setCurrentIndex(accuracy.findData("base"))
    saved, _ = dialog.result_settings()
    store.save_app(saved)
    loaded = reread(store).load_app()
    assert (loaded.model, loaded.vocabulary) == ("base", ("Acme Corp", "Zed"))
    for one_or_none in [("Solo",), ()]:  # QSettings turns a one-item list into a string
        store.save_app(AppSettings(vocabulary=one_or_none))
        assert reread(store).load_app().vocabulary == one_or_none


def test_better_where_this_computer_cannot_keep_up_is_said_beside_the_choice(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(AppSettings(model="base"), OverlayLook(), [])
    qtbot.addWidget(dialog)
    assert dialog.cost_note.isHidden()  # the probe's figure is not known yet
    dialog.show_better_cost(1.3)
    assert not dialog.cost_note.isHidden() and "1.30 s" in dialog.cost_note.text()
    dialog.accuracy.setCurrentIndex(dialog.accuracy.findData("tiny.en"))
    assert dialog.cost_note.isHidden()
    dialog.accuracy.setCurrentIndex(dialog.accuracy.findData("base"))
    assert not dialog.cost_note.isHidden()
    dialog.show_better_cost(0.3)  # keeps up
    assert dialog.cost_note.isHidden()


def test_a_model_folder_in_the_settings_is_kept_by_the_dialog(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(AppSettings(model="/opt/models/my-whisper"), OverlayLook(), [])
    qtbot.addWidget(dialog)
    assert dialog.accuracy.currentText() == "Model folder: /opt/models/my-whisper"
    assert not dialog.selection_note.isVisibleTo(dialog)  # no engine note: nothing shown
    assert dialog.result_settings()[0].model == "/opt/models/my-whisper"
    dialog.use_model_folder("/srv/other")
    assert dialog.result_settings()[0].model == "/srv/other"


def test_the_engine_label_tooltip_and_the_loading_state(qtbot) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(TranscriptModel())
    qtbot.addWidget(window)
    window.set_engine("whisper · base", "Auto chose base")
    assert window.engine_label.toolTip() == "Auto chose base"
    window.set_engine("whisper · tiny.en (local)")  # a failover label keeps the note
    assert window.engine_label.toolTip() == "Auto chose base"
    window.set_running(CaptionState.LOADING, "base")
    assert window.state_label.text() == "Loading model…: base"
    assert not window.start_action.isEnabled() and not window.open_action.isEnabled()
    assert not window.stop_action.isEnabled() and not window.source_combo.isEnabled()


# -- the controller -----------------------------------------------------------------------


@pytest.fixture
def controller(qtbot, store: SettingsStore, tmp_path: Path) -> Iterator[AppController]:  # type: ignore[no-untyped-def]
    model = TranscriptModel()
    window = MainWindow(model)
    overlay = CaptionOverlay(store.load_look())
    controller = AppController(window, overlay, model, store, journal_dir=tmp_path / "sessions")
    yield controller
    window.quit_requested.disconnect()
    window.close()
    overlay.close()


def record_states(controller: AppController) -> list[tuple[str, str]]:
    """The states the window was shown, by name."""
    seen: list[tuple[str, str]] = []
    show = controller.window.set_running

    def recording(state: CaptionState, detail: str) -> None:
        seen.append((state.name, detail))
        show(state, detail)

    controller.window.set_running = recording  # type: ignore[method-assign]
    return seen


def test_the_vocabulary_and_language_reach_the_handshake(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    engine = ScriptedEngine()
    controller.settings.vocabulary = ("Acme Corp", "Zed")
    controller.settings.language = "en-US"

    async def scenario() -> None:
        async with embedded_server(engine) as (url, token):
            controller.server_ready(url, token, "scripted")
            await controller.run(FileReplaySource(Path("talk.wav"), speed=10, audio=tone(2)))

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    (session,) = engine.sessions
    assert session.params.keyterms == ("Acme Corp", "Zed")
    assert session.params.language == "en-US"


class NamedEngine(ScriptedEngine):
    def __init__(self, model: str) -> None:
        super().__init__()
        self.model_name = model
        self.selection_note = ""
        self.selection_note = f"{model} was asked for"
        self.closed = False

    async def aclose(self) -> None:
        self.closed = True


class Loader:
    """Loads a NamedEngine per model; "broken" fails as a missing model does."""

    def __init__(self) -> None:
        self.loaded: list[NamedEngine] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, engine: str, model: str) -> Engine:
        self.threads.append(threading.current_thread())
        if model == "broken":
            raise ModelNotFound(model, ["not a known model (tiny.en, base) nor a folder"])
        self.loaded.append(NamedEngine(model))
        return self.loaded[-1]


async def refused(url: str) -> bool:
    try:
        async with StreamClient(url, StreamParams(), open_timeout=2):
            return False
    except ServerUnavailable:
        return True


def test_a_new_model_is_loaded_at_the_next_start_and_a_failed_load_keeps_the_old_one(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    loader = Loader()
    host = EngineHost(loader, embedded_server)
    controller.session.engines = host
    controller.settings.model = "tiny.en"
    seen = record_states(controller)

    async def start() -> None:
        await controller.run(FileReplaySource(Path("talk.wav"), speed=10, audio=tone(2)))

    async def scenario() -> None:
        assert await controller.engine_ready()
        first = loader.loaded[0]
        first_url = host.url
        assert controller.window.engine_label.text() == "scripted · tiny.en"
        assert controller.window.engine_label.toolTip() == "tiny.en was asked for"

        controller.settings.model = "base"  # as the dialog leaves it: no restart
        seen.clear()
        await start()
        second = loader.loaded[1]
        assert seen[0] == ("LOADING", "base") and ("STREAMING", "talk.wav") in seen
        assert [s.params.keyterms for s in second.sessions] == [()]  # captioned by the new one
        assert first.closed and not first.sessions and first_url != host.url
        assert first_url is not None and await refused(first_url)  # the old server is gone
        assert controller.window.engine_label.text() == "scripted · base"

        controller.settings.model = "broken"
        seen.clear()
        await start()
        assert seen[-1][0] == "ERROR"
        assert seen[-1][1].startswith("could not load broken: model 'broken' is not installed")
        assert seen[-1][1].endswith("; still using scripted · base")
        assert host.engine is second and not second.closed and len(second.sessions) == 1

        controller.settings.model = "base"  # back to what is loaded: no load, it just starts
        await start()
        assert len(loader.loaded) == 2 and len(second.sessions) == 2

        controller.settings.language = "de"  # a session setting the engine refuses: said so
        seen.clear()
        await start()
        assert seen[-1][0] == "ERROR"
        assert "invalid language='de': scripted engine speaks English" in seen[-1][1]
        assert len(loader.loaded) == 2 and host.engine is second

        controller.settings.language = "en"
        host.mark_stale()  # as after a new Deepgram API key: the same choice loads afresh
        await start()
        assert len(loader.loaded) == 3 and second.closed and host.engine is loader.loaded[2]
        await start()  # once only
        assert len(loader.loaded) == 3
        await host.aclose()
        assert loader.loaded[2].closed

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert threading.main_thread() not in loader.threads  # every load ran off the UI thread
    assert len(controller.model.segments) == 4  # every session's captions are in the panel


@pytest.mark.e2e
@pytest.mark.model
def test_real_model_changes_take_effect_at_start_without_a_restart(
    controller: AppController,
    qloop: asyncio.AbstractEventLoop,
    speech_dir: Path,
    tmp_path: Path,
) -> None:
    from app.commands.embedded import load_engine
    from app.models.store import ModelStore

    # A copy of tiny.en in a folder of its own, as an advanced user would point to.
    folder = tmp_path / "my-tiny.en"
    folder.mkdir()
    for file in ModelStore().resolve("tiny.en").path.iterdir():
        (folder / file.name).symlink_to(file)
    speech = speech_dir / "audio/pub_jfk_inaugural_01.flac"
    host = EngineHost(load_engine, embedded_server)
    controller.session.engines = host
    controller.settings.model = "tiny.en"
    seen = record_states(controller)

    async def scenario() -> None:
        try:
            assert await controller.engine_ready()
            first = host.engine
            assert controller.window.engine_label.text() == "whisper · tiny.en"

            controller.settings.language = "de"  # tiny.en is English only
            seen.clear()
            await controller.run(FileReplaySource(speech, speed=4))
            assert seen[-1][0] == "ERROR"
            assert "invalid language='de': model tiny.en does not support it" in seen[-1][1]
            assert host.engine is first and controller.model.rowCount() == 0

            controller.settings.language = "en"
            controller.settings.model = str(folder)
            seen.clear()
            await controller.run(FileReplaySource(speech, speed=4))
            assert seen[0] == ("LOADING", str(folder))
            assert host.engine is not first
            assert controller.window.engine_label.text() == "whisper · my-tiny.en"
        finally:
            await host.aclose()

    qloop.run_until_complete(asyncio.wait_for(scenario(), 240))
    words = re.sub(r"[^a-z ]", "", " ".join(s.text for s in controller.model.segments).lower())
    assert "ask not what your country can do for you" in words


def test_an_engine_that_finishes_loading_after_quit_is_closed_not_served() -> None:
    from tests.conftest import run

    release = threading.Event()
    loaded: list[NamedEngine] = []

    def slow_load(engine: str, model: str) -> NamedEngine:
        release.wait(10)
        loaded.append(NamedEngine(model))
        return loaded[-1]

    async def scenario() -> EngineHost[NamedEngine]:
        host = EngineHost(slow_load, embedded_server)
        switching = asyncio.create_task(host.switch(EngineChoice("whisper", "base")))
        await asyncio.sleep(0)  # the load is under way in its thread
        await host.aclose()  # the app quits meanwhile
        release.set()
        await switching
        return host

    host = run(scenario())
    assert loaded[0].closed and host.engine is None and host.url is None


def test_telling_the_others_apart_is_on_and_remembered(qtbot, store: SettingsStore) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(AppSettings(), OverlayLook(), [])
    qtbot.addWidget(dialog)
    assert dialog.label_speakers.isChecked()
    dialog.label_speakers.setChecked(False)
    saved, _ = dialog.result_settings()
    store.save_app(saved)
    assert reread(store).load_app().label_speakers is False
    again = SettingsDialog(reread(store).load_app(), OverlayLook(), [])
    qtbot.addWidget(again)
    assert not again.label_speakers.isChecked()


def test_the_expected_number_of_speakers_goes_with_telling_apart_and_is_remembered(
    qtbot, store: SettingsStore
) -> None:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(AppSettings(), OverlayLook(), [])
    qtbot.addWidget(dialog)
    count = dialog.expected_speakers
    assert (count.value(), count.text(), count.maximum()) == (0, "Don't know", MAX_SPEAKERS)
    assert count.isEnabled()  # telling the others apart is on by default
    dialog.label_speakers.setChecked(False)
    assert not count.isEnabled()  # a count of voices not told apart means nothing
    dialog.label_speakers.setChecked(True)
    assert count.isEnabled()
    count.setValue(3)
    saved, _ = dialog.result_settings()
    store.save_app(saved)
    assert reread(store).load_app().expected_speakers == 3
    again = SettingsDialog(reread(store).load_app(), OverlayLook(), [])
    qtbot.addWidget(again)
    assert again.expected_speakers.value() == 3 and again.expected_speakers.isEnabled()
    apart_off = SettingsDialog(replace(saved, label_speakers=False), OverlayLook(), [])
    qtbot.addWidget(apart_off)
    assert apart_off.expected_speakers.value() == 3  # kept for when it is turned on again
    assert not apart_off.expected_speakers.isEnabled()


@pytest.mark.parametrize(
    ("label_speakers", "expected_speakers", "sent"),
    [
        (True, 3, (True, 3)),
        (True, 0, (True, None)),  # Don't know: no limit
        (False, 3, (False, None)),  # without labels the count is not sent (it would be refused)
        (True, 42, (True, None)),  # a hand-edited settings file cannot make Start fail
    ],
)
def test_the_expected_number_of_speakers_reaches_the_handshake_with_the_labels(
    controller: AppController,
    qloop: asyncio.AbstractEventLoop,
    label_speakers: bool,
    expected_speakers: int,
    sent: tuple[bool, int | None],
) -> None:
    engine = ScriptedEngine()
    controller.settings.label_speakers = label_speakers
    controller.settings.expected_speakers = expected_speakers

    async def scenario() -> None:
        async with embedded_server(engine) as (url, token):
            controller.server_ready(url, token, "scripted")
            await controller.run(FileReplaySource(Path("talk.wav"), speed=10, audio=tone(1)))

    qloop.run_until_complete(asyncio.wait_for(scenario(), 60))
    (session,) = engine.sessions
    assert (session.params.diarize, session.params.max_speakers) == sent
