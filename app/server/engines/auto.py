"""Accuracy "Auto": base when this computer captions live with it comfortably, else tiny.en.

On first use a CPU probe streams the bundled sample, three times over as continuous speech,
through the real transcriber on base (`probe.measure_streaming_cost`, with the thread count
the engine uses) and keeps base when it
needs at most `KEEPS_UP` seconds of work per second of speech: room for two channels, the rest of
the computer and the longer decodes of long utterances. The figure is cached per computer
(`probe_cache`), so later starts choose at once; a run during which other programs held the
cores is not, it measures the load of the moment. With base, sessions still step down to tiny.en
when they fall behind (`stepdown.AutoEngine`). The engine's `selection_note` says what was
chosen and why, with the figure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import soundfile

from app.errors import ModelError, ModelNotFound
from app.models.store import ModelStore
from app.protocol.pcm import FloatArray
from app.resources import SAMPLE, resources_dir
from app.server.asr.resample import TARGET_RATE, StreamResampler
from app.server.engines import DEFAULT_THREADS
from app.server.engines.base import Engine
from app.server.engines.probe import ProbeResult, measure_streaming_cost
from app.server.engines.probe_cache import ProbeCache, this_computer
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
Measure = Callable[[WhisperEngine], ProbeResult]


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


def probe_streaming(engine: WhisperEngine) -> ProbeResult:
    """Time `engine` captioning continuous speech live, stopping once it is clearly too slow."""
    return measure_streaming_cost(
        lambda audio, prompt, prefix, beam: engine.decode_now(audio, prompt, prefix, "en", beam),
        probe_audio(),
        engine.tuning,
        give_up_above=KEEPS_UP,
    )


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
    if figure is not None and figure > KEEPS_UP:
        return _fast_only(fast, _too_slow(figure))
    try:
        # Base shares tiny.en's decode thread: one decode at a time, whichever model.
        better = WhisperEngine.load(BETTER, store=store, threads=threads, share_threads_with=fast)
    except ModelNotFound:
        return _fast_only(fast, f"{BETTER} is not installed (captionist models install {BETTER})")
    except ModelError as exc:
        return _fast_only(fast, f"{BETTER} cannot be used: {exc}")
    better.warm_up()
    busy = ""
    if figure is None:
        try:
            result = measure(better)
        except Exception as exc:  # a probe that fails must not stop captioning
            log.exception("the CPU probe failed")
            return _fast_only(fast, f"the CPU probe failed ({type(exc).__name__}: {exc})")
        figure = result.seconds_per_speech_s
        log.info(
            "CPU probe: %s needs %.2f s per second of speech (%.1f s of audio, %.1f s of speech,"
            " in %.1f s, %.1f CPU-s%s)",
            BETTER,
            figure,
            result.audio_s,
            result.speech_s,
            result.wall_s,
            result.cpu_s,
            ", stopped early" if result.stopped_early else "",
        )
        if result.disturbed:
            busy = "; other programs were busy, so it is measured again at the next start"
        else:
            cache.put(key, figure)
    if figure > KEEPS_UP:
        # `better` is dropped unclosed: closing it would stop the decode thread it shares.
        return _fast_only(fast, _too_slow(figure) + busy)
    note = f"Auto: {BETTER} ({figure:.2f} s per second of speech here{busy})"
    log.info("%s", note)
    return AutoEngine(better, fast, selection_note=note, policy=policy)


def _too_slow(figure: float) -> str:
    return (
        f"{BETTER} would need {figure:.2f} s per second of speech on this computer "
        f"(Auto takes it at {KEEPS_UP:.2f} or less)"
    )


def _fast_only(fast: WhisperEngine, why: str) -> WhisperEngine:
    fast.selection_note = f"Auto: {FAST} — {why}"
    log.info("%s", fast.selection_note)
    return fast
