"""Where the voice changes inside one final. Pure.

In a meeting people answer each other without a pause, so one final (the words between two
pauses) can hold two speakers; labelled whole, it gives the second one's words to the first.
The speaker encoder already embeds a final as overlapping 1.6 s windows (1.3 a second) to
average them; the same windows show where the voice changes: split where the mean of the
windows before and the mean of those after are least alike, if they are as unlike as two
speakers' voices, and each side is long enough to trust. Each side may split again.

Once the words are known, each turn that holds some is labelled on its own and the transcriber
makes it a final of its own, ended (speech_final) where the next voice begins: one speaker a
final, and no client joins one speaker's words to another's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from app.server.asr.labelling import SpeakerTurns, Turn
from app.server.asr.speaker_clusters import SpeakerClusters
from app.server.speakers.encoder import unit_mean
from app.server.speakers.features import HOP, PARTIAL_FRAMES, RATE, SAMPLE_RATE

# The encoder's windows: 1.6 s long, one every 0.77 s (features.partial_slices).
WINDOW_S = PARTIAL_FRAMES * HOP / SAMPLE_RATE
STEP_S = round(SAMPLE_RATE / RATE / HOP) * HOP / SAMPLE_RATE

Windows = npt.NDArray[np.floating[Any]]  # (n, dim) unit embeddings of successive windows


@dataclass(frozen=True)
class TurnSettings:
    # Window means this unlike (cosine) are two voices. On the eval set's tuning half
    # (bench/speaker_turns_tune.py: 300 two-voice and 300 one-voice joins without a pause) no
    # one-voice join split up to 0.70, and from 0.72 some did; 0.65 keeps that margin (a false
    # split cuts a sentence and gives half of it to someone else) and still splits 77 % of the
    # two-voice joins within 1 s of the join (87 % at 0.70). Below the clusters' new-speaker
    # threshold (0.72) too: a split must be surer than a new label.
    split_below: float = 0.65
    # Each side needs this many windows (2: about 2.4 s of audio): a mean of one window is
    # too noisy to tell a new voice from a change of tone; with 3, 8 points fewer splits.
    min_windows: int = 2
    # At most this many pieces per final (splits are binary, each side may split again).
    max_pieces: int = 3

    def __post_init__(self) -> None:
        if not -1.0 <= self.split_below <= 1.0:
            raise ValueError(f"split_below must be a cosine, not {self.split_below}")
        if self.min_windows < 1 or self.max_pieces < 1:
            raise ValueError("min_windows and max_pieces must be at least 1")


def turn_boundaries(windows: Windows, settings: TurnSettings | None = None) -> list[int]:
    """Indices where a new voice's windows begin (sorted; empty: one voice throughout)."""
    settings = settings or TurnSettings()
    units = _unit_rows(np.asarray(windows, dtype=np.float64))
    pieces = [(0, len(units))]
    boundaries: list[int] = []
    while len(pieces) < settings.max_pieces:
        best: tuple[float, int, int] | None = None  # (cosine, piece index, boundary)
        for index, (start, stop) in enumerate(pieces):
            found = _weakest_link(units[start:stop], settings)
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], index, start + found[1])
        if best is None:
            break
        _, index, boundary = best
        start, stop = pieces[index]
        pieces[index : index + 1] = [(start, boundary), (boundary, stop)]
        boundaries.append(boundary)
    return sorted(boundaries)


def boundary_time_s(boundary: int) -> float:
    """Seconds into the audio where windows `boundary - 1` (the last of the first voice) and
    `boundary` (the first of the next) overlap, at the middle of their overlap."""
    return boundary * STEP_S + (WINDOW_S - STEP_S) / 2


def _weakest_link(units: Windows, settings: TurnSettings) -> tuple[float, int] | None:
    """(cosine, boundary) of the least alike split of `units` into two runs of at least
    min_windows, if it is below split_below."""
    n = len(units)
    if n < 2 * settings.min_windows:
        return None
    before = np.cumsum(units, axis=0)
    total = before[-1]
    best: tuple[float, int] | None = None
    for boundary in range(settings.min_windows, n - settings.min_windows + 1):
        left, right = before[boundary - 1], total - before[boundary - 1]
        cosine = float(left @ right / (np.linalg.norm(left) * np.linalg.norm(right) or 1.0))
        if best is None or cosine < best[0]:
            best = (cosine, boundary)
    return best if best is not None and best[0] < settings.split_below else None


def _unit_rows(vectors: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0.0, norms, 1.0)


@dataclass(frozen=True)
class VoiceWindows:
    """A span's window embeddings and where its voice changes, labelled into `clusters` once
    the span's words are known (labelling.SpanVoices)."""

    clusters: SpeakerClusters
    windows: Windows
    boundaries: tuple[int, ...]
    start_s: float
    duration_s: float

    def turns(self, word_middles: Sequence[float]) -> SpeakerTurns:
        """Each turn's speaker, every turn labelled in order from the mean of its own windows;
        a turn no word's middle falls in joins the turn before it (the first, the next)."""
        boundaries = list(self.boundaries)
        while boundaries:
            times = self._times(boundaries)
            held = [
                any(times[i] <= m - self.start_s < times[i + 1] for m in word_middles)
                for i in range(len(times) - 1)
            ]
            if all(held):
                break
            empty = held.index(False)
            del boundaries[max(empty - 1, 0)]
        times = self._times(boundaries)
        edges = [0, *boundaries, len(self.windows)]
        return tuple(
            Turn(
                self.start_s + times[i],
                self.clusters.assign(
                    unit_mean(self.windows[edges[i] : edges[i + 1]]),
                    times[i + 1] - times[i],
                    self.start_s + times[i],
                ),
            )
            for i in range(len(edges) - 1)
        )

    def _times(self, boundaries: list[int]) -> list[float]:
        """Seconds into the span where each turn begins, then the span's length."""
        return [0.0, *(boundary_time_s(b) for b in boundaries), self.duration_s]


def voice_windows(
    clusters: SpeakerClusters,
    windows: Windows,
    duration_s: float,
    start_s: float,
    settings: TurnSettings | None = None,
) -> VoiceWindows:
    """A final's voices from its windows' embeddings, to be labelled by its words."""
    boundaries = tuple(turn_boundaries(windows, settings))
    return VoiceWindows(clusters, windows, boundaries, start_s, duration_s)
