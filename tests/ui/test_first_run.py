"""The first-run guide (offscreen): what to caption, a level check on the chosen source that
proves it hears something (or says what is missing), the overlay page; shown once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from app.audio.base import AudioSource
from app.audio.file_source import DecodedAudio
from app.audio.replay import FileReplaySource
from app.errors import AudioDeviceError
from app.ui.controller import AppController
from app.ui.first_run import FirstRunGuide, GuideResult, offer_first_run, wait_cancelled
from tests.waiting import until


class Recorded(FileReplaySource):
    """A file played as if live, that remembers being stopped."""

    stopped = False

    async def stop(self) -> None:
        self.stopped = True
        await super().stop()


def sound(seconds: float, amplitude: float) -> DecodedAudio:
    t = np.arange(int(seconds * 16000)) / 16000
    return DecodedAudio((amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)


def guide_with(sources: dict[str, AudioSource | None], current: str = "system") -> FirstRunGuide:
    async def open_source(side: str) -> AudioSource:
        source = sources[side]
        if source is None:
            raise AudioDeviceError("microphone", "no microphone found; check your sound settings")
        return source

    return FirstRunGuide(current, open_source)


def choose(guide: FirstRunGuide, source: str) -> None:
    for button in guide.choice.buttons():
        if button.property("source") == source:
            button.setChecked(True)


def test_the_level_check_hears_the_chosen_sources_and_names_a_missing_one(
    qtbot, qloop: asyncio.AbstractEventLoop
) -> None:  # type: ignore[no-untyped-def]
    system = Recorded(Path("call.wav"), speed=1.0, audio=sound(30, 0.1))
    guide = guide_with({"system": system, "microphone": None})
    qtbot.addWidget(guide)
    results: list[GuideResult] = []
    guide.done_with.connect(results.append)
    choose(guide, "both")
    guide.next_button.click()
    others, you = guide.checks
    assert (others.side, you.side) == ("system", "microphone")
    qloop.run_until_complete(
        until(lambda: others.heard and "no microphone" in you.verdict.text(), 10, "the check")
    )
    assert others.meter.value() > 40 and others.verdict.text() == "Heard ✓"
    assert "Settings → Audio" in you.verdict.text() and not you.heard
    guide.next_button.click()  # leaving the check closes the devices
    qloop.run_until_complete(wait_cancelled(guide.listening))
    qloop.run_until_complete(until(lambda: system.stopped, 5, "the device closed"))
    guide.click_through.setChecked(True)
    assert guide.next_button.text() == "Done"
    guide.next_button.click()
    assert results == [GuideResult("both", True, True)]


def test_a_silent_source_is_not_taken_for_a_voice(qtbot, qloop: asyncio.AbstractEventLoop) -> None:  # type: ignore[no-untyped-def]
    quiet = Recorded(Path("quiet.wav"), speed=4.0, audio=sound(4, 0.0005))  # -69 dBFS hiss
    guide = guide_with({"system": quiet, "microphone": None})
    qtbot.addWidget(guide)
    guide.next_button.click()
    (check,) = guide.checks
    qloop.run_until_complete(until(lambda: quiet.stopped, 10, "the quiet file to end"))
    assert not check.heard and check.verdict.text() == "Listening…"


def test_skipping_saves_the_choice_and_the_guide_is_not_offered_again(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    assert not controller.settings.first_run_done
    guide = offer_first_run(controller)
    choose(guide, "microphone")
    guide.skip_button.click()
    saved = controller.store.load_app()
    assert saved.first_run_done and saved.source == "microphone"
    assert controller.window.source_combo.currentData() == "microphone"
    assert not controller.overlay.click_through


def test_finishing_with_click_through_turns_it_on(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    guide = offer_first_run(controller)
    guide.go(2)
    guide.click_through.setChecked(True)
    guide.next_button.click()
    assert controller.overlay.click_through and controller.store.load_look().click_through
    assert controller.store.load_app().first_run_done


class SlowToOpen(Recorded):
    """A device that takes a while to open, as a real one in a worker thread does."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.may_open = asyncio.Event()

    async def start(self) -> None:
        # Like DeviceSource's open in a worker thread: a cancelled wait does not stop it.
        async def open_device() -> None:
            await self.may_open.wait()
            await FileReplaySource.start(self)

        self.opening = asyncio.ensure_future(open_device())
        await asyncio.shield(self.opening)


def test_a_page_left_while_its_device_opens_still_closes_the_device(
    qtbot, qloop: asyncio.AbstractEventLoop
) -> None:  # type: ignore[no-untyped-def]
    slow = SlowToOpen(Path("call.wav"), speed=1.0, audio=sound(5, 0.1))
    guide = guide_with({"system": slow, "microphone": None})
    qtbot.addWidget(guide)
    guide.next_button.click()  # the level check starts opening the device...
    listening = guide.listening
    qloop.run_until_complete(asyncio.sleep(0.05))
    guide.go(2)  # ...and the user moves on before it is open
    slow.may_open.set()
    qloop.run_until_complete(wait_cancelled(listening))
    qloop.run_until_complete(until(lambda: slow.stopped, 5, "the late-opened device closed"))


def test_settings_saved_while_the_guide_is_open_are_kept_when_it_finishes(
    controller: AppController, qloop: asyncio.AbstractEventLoop
) -> None:
    from dataclasses import replace

    guide = offer_first_run(controller)
    # Settings → OK meanwhile: the controller gets a new settings object.
    controller.settings = replace(controller.settings, microphone_id="pa:usb-headset")
    controller.store.save_app(controller.settings)
    guide.skip_button.click()
    saved = controller.store.load_app()
    assert saved.microphone_id == "pa:usb-headset" and saved.first_run_done
    assert controller.settings.first_run_done
