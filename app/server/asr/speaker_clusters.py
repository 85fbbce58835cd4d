"""Online speaker clustering: one speaker label per utterance, from its voice embedding. Pure.

Each finished utterance brings a voice embedding (GE2E: 256 non-negative components, unit
length, so cosines run from about 0.5 between strangers to 0.8+ for one voice) and is matched
against running speaker centroids. A label, once returned, is never changed: the overlay shows
it with the final (issue 13). A later offline pass may relabel the transcript, never this.

Speakers may also be taught by another diarizer (`learn`): while the cloud provider serves a
session, the local engine learns its voices under the provider's numbers, so that after a
failover the same voice keeps its number.

The match threshold follows resemblyzer's own reading of GE2E cosines ("confident" above
0.75); the new-speaker threshold was chosen on the eval set's tuning half (see below).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Embedding = npt.NDArray[np.floating[Any]]  # what callers pass: float32 or float64
Vectors = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ClusterSettings:
    # A cosine this high to a centroid is the same voice with confidence: the centroid learns
    # from it. Between the two thresholds an utterance is labelled but teaches nothing.
    match_threshold: float = 0.75
    # Below this to every centroid the voice is nobody known: a new speaker, if the utterance
    # is long enough to trust. The gap up to match_threshold is the hysteresis band that keeps
    # one noisy voice from being split in two. Chosen on the eval set's tuning half only
    # (bench/speaker_tune.py): 0.65 merged a quarter of strangers (82 % of utterances right);
    # 0.70-0.76 is a plateau (90-93 %), and from 0.78 one voice starts to split. 0.72 keeps
    # a margin from that edge for voices and microphones the tuning half does not have.
    new_speaker_threshold: float = 0.72
    # Shorter embeddings are too noisy to found a speaker (a cough, "yeah"): they only join one.
    # On the tuning half 1.0 s did 0.9 points better (92.5 vs 91.6 %), within the noise of so
    # few voices, while a second-long sound then opens a speaker in the noise model the unit
    # tests use: 1.5 s stays.
    min_new_speaker_s: float = 1.5
    # ... and, below this, too noisy to move a centroid.
    min_update_s: float = 1.0
    # The previous speaker keeps the turn unless another is better by more than this: a voice
    # sits between two centroids often, and flip-flopping labels read worse than a late switch.
    prefer_previous_margin: float = 0.03
    # ... but only if this utterance starts within hold_s of the previous one's end: after a
    # long silence anyone may speak next, and the voice alone decides.
    hold_s: float = 5.0
    # A centroid learns only when its winner clearly beats the runner-up; otherwise a voice
    # between two speakers would pull their centroids together until they merge.
    update_margin: float = 0.05
    # The expected number of speakers, if known (the app's setting): once reached, every
    # utterance goes to the nearest speaker instead of opening another.
    max_speakers: int | None = None
    dim: int = 256

    def __post_init__(self) -> None:
        if not 0.0 <= self.new_speaker_threshold <= self.match_threshold <= 1.0:
            raise ValueError(
                "thresholds must satisfy 0 <= new_speaker_threshold <= match_threshold <= 1, "
                f"not {self.new_speaker_threshold} and {self.match_threshold}"
            )
        if self.min_new_speaker_s < 0 or self.min_update_s < 0 or self.hold_s < 0:
            raise ValueError("min_new_speaker_s, min_update_s and hold_s must be >= 0")
        if self.prefer_previous_margin < 0 or self.update_margin < 0:
            raise ValueError("prefer_previous_margin and update_margin must be >= 0")
        if self.max_speakers is not None and self.max_speakers < 1:
            raise ValueError(f"max_speakers must be at least 1, not {self.max_speakers}")
        if self.dim < 1:
            raise ValueError(f"dim must be at least 1, not {self.dim}")


class Decision(enum.Enum):
    NO_VOICE = "no voice"  # no embedding (or no centroid yet): the previous speaker, else 0
    FIRST = "first"  # the first trusted voice founds speaker 0
    MATCHED = "matched"  # a confident match: the centroid learned from it
    UNCERTAIN = "uncertain"  # labelled by nearest or previous speaker; no centroid moved
    NEW = "new"  # a new speaker, founded by this utterance


@dataclass(frozen=True)
class Assignment:
    speaker: int
    start_s: float  # channel time
    duration_s: float
    similarity: float | None  # cosine to the chosen speaker's centroid; None: none compared
    decision: Decision


class SpeakerClusters:
    """Labels the utterances of one channel, in order: 0, 1, 2 ... as voices appear."""

    def __init__(self, settings: ClusterSettings | None = None) -> None:
        self.settings = settings or ClusterSettings()
        # Per speaker: the sum of the unit embeddings it learned from (a running mean, read
        # normalised). Row k is speaker k; no row yet for a speaker 0 named without a voice,
        # a zero row for a number `learn` skipped (taught no voice: matched by nothing).
        self._sums: Vectors = np.zeros((0, self.settings.dim), dtype=np.float64)
        self._history: list[Assignment] = []
        self._last_taught: int | None = None

    @property
    def history(self) -> tuple[Assignment, ...]:
        """Every label returned, in order; an entry never changes."""
        return tuple(self._history)

    @property
    def speaker_count(self) -> int:
        # Speaker k has row k once any voice is known; before that only speaker 0 exists.
        return max(len(self._sums), 1 if self._history else 0)

    def centroids(self) -> Vectors:
        """One row per speaker once any has a voice: unit, or zero for one taught none."""
        norms = np.linalg.norm(self._sums, axis=1, keepdims=True)
        units: Vectors = self._sums / np.maximum(norms, 1e-12)
        return units

    def assign(self, embedding: Embedding | None, duration_s: float, start_s: float) -> int:
        """The speaker of an utterance of `duration_s` starting at channel time `start_s`."""
        if not (math.isfinite(duration_s) and duration_s >= 0):
            raise ValueError(f"duration_s must be a finite number >= 0, not {duration_s}")
        if not math.isfinite(start_s):
            raise ValueError(f"start_s must be finite, not {start_s}")
        last = self._history[-1].speaker if self._history else self._last_taught
        if embedding is None:
            speaker = 0 if last is None else last
            return self._record(speaker, start_s, duration_s, None, Decision.NO_VOICE)
        unit = self._unit(embedding)
        if len(self._sums) == 0:
            # Nobody has a voice yet, so this is speaker 0 whatever it sounds like; a trusted
            # utterance gives speaker 0 its voice.
            if duration_s >= self.settings.min_new_speaker_s:
                self._sums = unit[np.newaxis, :].copy()
                return self._record(0, start_s, duration_s, 1.0, Decision.FIRST)
            return self._record(0, start_s, duration_s, None, Decision.NO_VOICE)
        return self._match(unit, duration_s, start_s)

    def learn(self, speaker: int, embedding: Embedding, duration_s: float) -> bool:
        """Teach `speaker` a voice that another diarizer labelled (the provider, before a
        failover). Labels nothing; False if the utterance is too short to teach anything.

        Numbers up to `speaker` are taken from then on: a voice heard later that none of them
        has gets the next number, and a number taught no voice is never given."""
        if speaker < 0:
            raise ValueError(f"speaker must be >= 0, not {speaker}")
        if not (math.isfinite(duration_s) and duration_s >= 0):
            raise ValueError(f"duration_s must be a finite number >= 0, not {duration_s}")
        unit = self._unit(embedding)
        if duration_s < self.settings.min_update_s:
            return False
        if speaker >= len(self._sums):
            grown = np.zeros((speaker + 1, self.settings.dim), dtype=np.float64)
            grown[: len(self._sums)] = self._sums
            self._sums = grown
        self._sums[speaker] += unit
        self._last_taught = speaker
        return True

    def _match(self, unit: Vectors, duration_s: float, start_s: float) -> int:
        s = self.settings
        sims = self.centroids() @ unit
        best = int(np.argmax(sims))  # ties go to the older speaker: deterministic
        best_sim = float(sims[best])
        room = s.max_speakers is None or len(self._sums) < s.max_speakers
        if best_sim < s.new_speaker_threshold and duration_s >= s.min_new_speaker_s and room:
            self._sums = np.vstack([self._sums, unit])
            return self._record(len(self._sums) - 1, start_s, duration_s, 1.0, Decision.NEW)
        chosen = best
        previous = self._holding_speaker(start_s)
        if previous is not None and sims[previous] >= best_sim - s.prefer_previous_margin:
            chosen = previous
        sim = float(sims[chosen])
        runner_up = float(np.max(np.delete(sims, chosen))) if len(sims) > 1 else -1.0
        confident = (
            sim >= s.match_threshold
            and duration_s >= s.min_update_s
            and sim - runner_up >= s.update_margin
        )
        if confident:
            self._sums[chosen] += unit
        decision = Decision.MATCHED if confident else Decision.UNCERTAIN
        return self._record(chosen, start_s, duration_s, sim, decision)

    def _holding_speaker(self, start_s: float) -> int | None:
        """The previous utterance's speaker, while it may still hold the turn."""
        if not self._history:
            return None
        last = self._history[-1]
        if start_s < last.start_s:
            return None  # another engine session's clock (a handover): the voice decides
        if start_s - (last.start_s + last.duration_s) > self.settings.hold_s:
            return None
        return last.speaker

    def _unit(self, embedding: Embedding) -> Vectors:
        vector = np.asarray(embedding, dtype=np.float64)
        if vector.shape != (self.settings.dim,):
            raise ValueError(
                f"an embedding must have shape ({self.settings.dim},), not {vector.shape}"
            )
        norm = float(np.linalg.norm(vector))
        if not math.isfinite(norm) or norm == 0.0:
            raise ValueError("an embedding must be finite and not all zeros")
        return vector / norm

    def _record(
        self,
        speaker: int,
        start_s: float,
        duration_s: float,
        similarity: float | None,
        decision: Decision,
    ) -> int:
        self._history.append(Assignment(speaker, start_s, duration_s, similarity, decision))
        return speaker
