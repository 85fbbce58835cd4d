"""Accuracy "Auto": base when this computer captions live with it comfortably, else tiny.en.

A CPU probe streams the bundled sample, three times over as continuous speech, through the
real transcriber on base (`probe.measure_streaming_cost`, with the thread count the engine
uses) and keeps base when it needs at most `KEEPS_UP` seconds of work per second of speech:
room for two channels, the rest of the computer and the longer decodes of long utterances.
Until this computer has a figure, Auto captions with tiny.en at once and the probe runs
afterwards, when nothing is captioned (`background_probe`); the figure is cached per computer
(`probe_cache`), so later starts choose at once. A run during which other programs held the
cores is not kept: it measures the load of the moment. With base, sessions still step down to
tiny.en when they fall behind (`stepdown.AutoEngine`). The engine's `selection_note` says what
was chosen and why, with the figure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import soundfile

from app.errors import ModelError, ModelNotFound
from app.models.store import ModelStore, ResolvedModel
from app.protocol.pcm import FloatArray
from app.resources import SAMPLE, resources_dir
from app.server.asr.decoder import Decoding
from app.server.asr.resample import TARGET_RATE, StreamResampler
from app.server.engines import DEFAULT_THREADS
from app.server.engines.background_probe import BackgroundProbe, ProbeInterrupted
from app.server.engines.base import Engine
from app.server.engines.probe import ProbeResult, measure_streaming_cost
from app.server.engines.probe_cache import ProbeCache, ProbeKey, this_computer
from app.server.engines.stepdown import AutoEngine, StepPolicy
from app.server.engines.whisper import WhisperEngine

log = logging.getLogger(__name__)
AUTO = "auto"
BETTER = "base"
FAST = "tiny.en"
# Base is chosen when it needs at most this many seconds of work per second of speech.
KEEPS_UP = 0.5
# The probe plays the sample this many times with this pause between: continuous speech, whose
# finals are decoded with long windows of earlier speech, as in a meeting. (The sample alone,
# one 11 s utterance, measured base at 0.34 s per audio second on a 2-core computer where ten
# minutes of real speech needed 1.0. Three times over it still measured 0.39 per audio second:
# the sample has pauses. Per second of speech, what a meeting's continuous talk asks, 0.6.)
PROBE_REPEATS = 3
PROBE_PAUSE_S = 0.6
# (base, interrupted) -> the figure; raises ProbeInterrupted once `interrupted()` is true.
Measure = Callable[[WhisperEngine, Callable[[], bool]], ProbeResult]


def sample_audio() -> FloatArray:
    """The bundled sample (11 s of JFK) at 16 kHz mono."""
    audio, rate = soundfile.read(str(resources_dir() / SAMPLE), dtype="float32", always_2d=True)
    mono = np.asarray(audio.mean(axis=1), dtype=np.float32)
    return StreamResampler(int(rate)).process(mono, last=True) if rate != TARGET_RATE else mono


def probe_audio() -> FloatArray:
    """The sample `PROBE_REPEATS` times, `PROBE_PAUSE_S` apart."""
    sample = sample_audio()
    pause = np.zeros(round(PROBE_PAUSE_S * TARGET_RATE), dtype=np.float32)
    return np.concatenate([*([sample, pause] * (PROBE_REPEATS - 1)), sample])


def probe_streaming(
    engine: WhisperEngine, interrupted: Callable[[], bool] = lambda: False
) -> ProbeResult:
    """Time `engine` captioning continuous speech live, stopping once it is clearly too slow
    (or at the next decode once `interrupted()`: ProbeInterrupted)."""

    def decode(audio: FloatArray, prompt: str, prefix: str, beam: int | None) -> Decoding:
        if interrupted():
            raise ProbeInterrupted
        return engine.decode_now(audio, prompt, prefix, "en", beam)

    return measure_streaming_cost(decode, probe_audio(), engine.tuning, give_up_above=KEEPS_UP)


def load_auto(
    *,
    store: ModelStore,
    threads: int = DEFAULT_THREADS,
    cache: ProbeCache | None = None,
    measure: Measure | None = None,
    policy: StepPolicy | None = None,
) -> Engine:
    """tiny.en, or base stepping down to tiny.en; `selection_note` says which and why."""
    cache = cache or ProbeCache()
    measure = measure or probe_streaming
    fast = WhisperEngine.load(FAST, store=store, threads=threads)
    fast.warm_up()
    key = this_computer(BETTER, threads)
    figure = cache.get(key)
    if figure is None:
        try:
            resolved = store.resolve(BETTER)
        except ModelNotFound:
            return _fast_only(fast, _not_installed())
        except ModelError as exc:
            return _fast_only(fast, f"{BETTER} cannot be used: {exc}")
        probe = BackgroundProbe(
            fast,
            run=lambda interrupted: _measure_better(resolved, threads, measure, interrupted),
            record=lambda result: _keep(cache, key, result),
        )
        fast.background_work = probe
        probe.start()
        return _fast_only(
            fast,
            f"{BETTER} is measured on this computer first, while nothing is captioned;"
            f" Auto may choose it at a later Start",
        )
    if figure > KEEPS_UP:
        return _fast_only(fast, _too_slow(figure))
    try:
        # Base shares tiny.en's decode thread: one decode at a time, whichever model.
        better = WhisperEngine.load(BETTER, store=store, threads=threads, share_threads_with=fast)
    except ModelNotFound:
        return _fast_only(fast, _not_installed())
    except ModelError as exc:
        return _fast_only(fast, f"{BETTER} cannot be used: {exc}")
    better.warm_up()
    note = f"Auto: {BETTER} ({figure:.2f} s per second of speech here)"
    log.info("%s", note)
    return AutoEngine(better, fast, selection_note=note, policy=policy)


def _measure_better(
    model: ResolvedModel, threads: int, measure: Measure, interrupted: Callable[[], bool]
) -> ProbeResult:
    """Base on threads of its own (started by the probe's low-priority thread), measured."""
    better = WhisperEngine(model, threads=threads)
    try:
        better.warm_up()
        result = measure(better, interrupted)
    finally:
        better.close_now()
    log.info(
        "CPU probe: %s needs %.2f s per second of speech (%.1f s of audio, %.1f s of speech,"
        " in %.1f s, %.1f CPU-s%s%s)",
        BETTER,
        result.seconds_per_speech_s,
        result.audio_s,
        result.speech_s,
        result.wall_s,
        result.cpu_s,
        ", stopped early" if result.stopped_early else "",
        ", disturbed by other programs" if result.disturbed else "",
    )
    return result


def _keep(cache: ProbeCache, key: ProbeKey, result: ProbeResult) -> bool:
    """Cache the figure; True when base keeps up (the next Start loads it)."""
    cache.put(key, result.seconds_per_speech_s)
    return result.seconds_per_speech_s <= KEEPS_UP


def _not_installed() -> str:
    return f"{BETTER} is not installed (captionist models install {BETTER})"


def _too_slow(figure: float) -> str:
    return (
        f"{BETTER} would need {figure:.2f} s per second of speech on this computer "
        f"(Auto takes it at {KEEPS_UP:.2f} or less)"
    )


def _fast_only(fast: WhisperEngine, why: str) -> WhisperEngine:
    fast.selection_note = f"Auto: {FAST} — {why}"
    log.info("%s", fast.selection_note)
    return fast
