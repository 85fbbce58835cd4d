"""Online speaker clustering (app/server/asr/speaker_clusters.py) on synthetic voices.

A synthetic voice is a random non-negative unit centre; an utterance of it is the centre plus
Gaussian noise, ReLU'd and normalised, as GE2E's embeddings are. Shorter utterances are
noisier (an embedding averages fewer frames). The first test pins the fixtures to GE2E's
regime, so the other tests mean something for real voices.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.server.asr.speaker_clusters import (
    ClusterSettings,
    Decision,
    Embedding,
    SpeakerClusters,
)

DIM = 256
NOISE = 0.035  # per component, for a 3 s utterance
REFERENCE_S = 3.0


def unit(vector: Embedding) -> Embedding:
    return vector / np.linalg.norm(vector)


def voices(rng: np.random.Generator, count: int) -> list[Embedding]:
    return [unit(np.abs(rng.standard_normal(DIM))) for _ in range(count)]


def utterance(rng: np.random.Generator, voice: Embedding, duration_s: float) -> Embedding:
    sigma = NOISE * math.sqrt(REFERENCE_S / duration_s)
    return unit(np.maximum(0.0, voice + sigma * rng.standard_normal(DIM)))


def label_all(
    clusters: SpeakerClusters, turns: list[tuple[Embedding | None, float]], gap_s: float = 0.3
) -> list[int]:
    """Label utterances spoken one after the other, `gap_s` apart."""
    labels, at = [], 0.0
    for embedding, duration in turns:
        labels.append(clusters.assign(embedding, duration, at))
        at += duration + gap_s
    return labels


def test_the_synthetic_voices_sit_where_ge2e_voices_do() -> None:
    """resemblyzer: one voice "confident" above 0.75, "uncertain" above 0.65; strangers lower."""
    rng = np.random.default_rng(1)
    a, b = voices(rng, 2)

    def mean_cosine(duration_s: float, to: Embedding | None = None) -> float:
        """An utterance of voice a against `to`, or against another utterance of a."""
        cosines = []
        for _ in range(100):
            other = utterance(rng, a, duration_s) if to is None else to
            cosines.append(float(utterance(rng, a, duration_s) @ other))
        return float(np.mean(cosines))

    assert 0.75 <= mean_cosine(3.0) <= 0.85  # two 3 s utterances of one voice
    assert 0.85 <= mean_cosine(3.0, to=a) <= 0.95  # one against the voice's centre
    assert 0.55 <= mean_cosine(3.0, to=b) <= 0.65  # against a stranger's centre
    assert 0.55 <= float(a @ b) <= 0.7  # every component >= 0: strangers are not orthogonal
    # Two 0.5 s utterances of one voice look like strangers: too noisy to found a speaker on.
    assert mean_cosine(0.5) < 0.65


@pytest.mark.parametrize("seed", range(5))
def test_two_alternating_speakers_keep_their_labels(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = voices(rng, 2)
    durations = rng.uniform(1.5, 6.0, 40)
    turns = [(utterance(rng, (a, b)[i % 2], d), float(d)) for i, d in enumerate(durations)]
    assert label_all(SpeakerClusters(), turns) == [i % 2 for i in range(40)]


@pytest.mark.parametrize("seed", range(5))
def test_one_speaker_is_never_split_over_50_utterances(seed: int) -> None:
    """Realistic lengths (0.4-8 s, short ones noisier), pauses (some beyond hold_s), and now
    and then a short sound that is not the voice at all (a laugh, a cough, a door)."""
    rng = np.random.default_rng(100 + seed)
    (voice,) = voices(rng, 1)
    clusters, at, odd_sounds = SpeakerClusters(), 0.0, 0
    for duration in rng.uniform(0.4, 8.0, 50):
        source = voice
        if duration < 1.2 and rng.random() < 0.5:
            (source,) = voices(rng, 1)
            odd_sounds += 1
        assert clusters.assign(utterance(rng, source, duration), float(duration), at) == 0
        at += float(duration + rng.uniform(0.2, 12.0))
    assert clusters.speaker_count == 1
    assert odd_sounds >= 1


def test_a_short_utterance_never_opens_a_speaker() -> None:
    rng = np.random.default_rng(7)
    a, b = voices(rng, 2)
    clusters = SpeakerClusters()
    assert clusters.assign(utterance(rng, a, 3.0), 3.0, 0.0) == 0
    stranger = utterance(rng, b, 3.0)  # clearly somebody else, but heard for under 1.5 s
    assert float(clusters.centroids()[0] @ stranger) < 0.65
    assert clusters.assign(stranger, 1.4, 3.5) == 0
    assert clusters.history[-1].decision is Decision.UNCERTAIN
    assert clusters.speaker_count == 1
    assert clusters.assign(stranger, 1.5, 5.0) == 1  # long enough: a new speaker
    assert clusters.history[-1].decision is Decision.NEW


def test_a_short_first_utterance_names_speaker_0_without_giving_it_a_voice() -> None:
    rng = np.random.default_rng(8)
    a, b = voices(rng, 2)
    clusters = SpeakerClusters()
    assert clusters.assign(utterance(rng, b, 0.5), 0.5, 0.0) == 0
    assert clusters.assign(None, 2.0, 1.0) == 0
    assert len(clusters.centroids()) == 0
    assert clusters.assign(utterance(rng, a, 3.0), 3.0, 4.0) == 0  # founds speaker 0's voice
    assert clusters.history[-1].decision is Decision.FIRST
    assert clusters.assign(utterance(rng, b, 3.0), 3.0, 8.0) == 1


def test_without_an_embedding_the_previous_speaker_keeps_the_turn() -> None:
    rng = np.random.default_rng(9)
    a, b = voices(rng, 2)
    clusters = SpeakerClusters()
    label_all(clusters, [(utterance(rng, a, 3.0), 3.0), (utterance(rng, b, 3.0), 3.0)])
    assert clusters.assign(None, 0.3, 7.0) == 1
    assert clusters.history[-1].decision is Decision.NO_VOICE


def test_at_the_expected_number_of_speakers_a_new_voice_goes_to_the_nearest() -> None:
    rng = np.random.default_rng(10)
    a, b, c = voices(rng, 3)
    clusters = SpeakerClusters(ClusterSettings(max_speakers=2))
    labels: list[int] = []
    for turn, voice in enumerate(itertools.islice(itertools.cycle([a, b, c]), 30)):
        embedding = utterance(rng, voice, 3.0)
        nearest = int(np.argmax(clusters.centroids() @ embedding)) if turn >= 2 else -1
        labels.append(clusters.assign(embedding, 3.0, 11.0 * turn))  # pauses beyond hold_s
        if voice is c:
            assert labels[-1] == nearest
    assert set(labels) == {0, 1} and clusters.speaker_count == 2
    assert labels[0::3] == [0] * 10 and labels[1::3] == [1] * 10


def test_a_voice_between_two_speakers_stays_with_the_previous_one_and_moves_no_centroid() -> None:
    """Hysteresis: within prefer_previous_margin of the best, the previous speaker keeps the
    turn (within hold_s); later, after a long pause, the nearest takes it."""
    clusters = SpeakerClusters(ClusterSettings(dim=3))
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.5, math.sqrt(3) / 2, 0.0])  # cosine 0.5
    assert label_all(clusters, [(a, 2.0), (b, 2.0)]) == [0, 1]
    clusters.assign(a, 2.0, 5.0)  # speaker 0 speaks last, until 7 s
    angle = math.radians(31)  # 31 degrees from a, 29 from b: cosine 0.857 to a, 0.875 to b
    between = np.array([math.cos(angle), math.sin(angle), 0.0])
    before = clusters.centroids().copy()
    assert clusters.assign(between, 2.0, 7.5) == 0
    assert clusters.assign(between, 2.0, 9.8) == 0  # still speaker 0's turn
    assert clusters.assign(between, 2.0, 20.0) == 1  # after 8 s of silence: the nearest
    assert np.array_equal(clusters.centroids(), before)
    assert {h.decision for h in clusters.history[-3:]} == {Decision.UNCERTAIN}


def test_a_confident_match_moves_the_centroid_to_the_running_mean() -> None:
    clusters = SpeakerClusters(ClusterSettings(dim=3))
    first, second = unit(np.array([1.0, 0.2, 0.0])), unit(np.array([1.0, 0.0, 0.3]))
    label_all(clusters, [(first, 2.0), (second, 2.0)])
    assert clusters.history[-1].decision is Decision.MATCHED
    np.testing.assert_allclose(clusters.centroids()[0], unit(first + second))
    clusters.assign(2 * first, 0.9, 5.0)  # too short to teach, though it matches
    np.testing.assert_allclose(clusters.centroids()[0], unit(first + second))


def test_an_uncertain_match_is_labelled_but_teaches_the_centroid_nothing() -> None:
    clusters = SpeakerClusters(ClusterSettings(dim=3))
    clusters.assign(np.array([1.0, 0.0, 0.0]), 2.0, 0.0)
    assert clusters.assign(unit(np.array([1.0, 0.92, 0.0])), 2.0, 2.5) == 0  # cosine 0.736
    assert clusters.history[-1].decision is Decision.UNCERTAIN
    np.testing.assert_allclose(clusters.centroids(), [[1.0, 0.0, 0.0]])


def test_a_match_too_close_to_another_speaker_teaches_neither() -> None:
    """Else a voice between two speakers pulls their centroids together until they merge."""
    clusters = SpeakerClusters(ClusterSettings(dim=3))
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.6, 0.8, 0.0])  # cosine 0.6: two speakers
    assert label_all(clusters, [(a, 2.0), (b, 2.0)]) == [0, 1]
    near_both = np.array([0.8, 0.375, math.sqrt(1 - 0.8**2 - 0.375**2)])  # 0.80 to a, 0.78 to b
    assert clusters.assign(near_both, 3.0, 20.0) == 0  # after a long pause: the nearest
    assert clusters.history[-1].decision is Decision.UNCERTAIN
    np.testing.assert_allclose(clusters.centroids(), [a, b])


def test_the_same_utterances_get_the_same_labels() -> None:
    rng = np.random.default_rng(11)
    people = voices(rng, 3)
    turns: list[tuple[Embedding | None, float]] = []
    for _ in range(60):
        duration = float(rng.uniform(0.3, 6.0))
        turns.append((utterance(rng, people[int(rng.integers(3))], duration), duration))
    first, second = SpeakerClusters(), SpeakerClusters()
    assert label_all(first, turns) == label_all(second, turns)
    assert first.history == second.history


def test_learned_voices_keep_the_numbers_they_were_taught_under() -> None:
    """A failover: the provider labelled B as 1 and A as 0; the local labels follow."""
    rng = np.random.default_rng(12)
    a, b, c = voices(rng, 3)
    clusters = SpeakerClusters()
    for _ in range(3):
        assert clusters.learn(1, utterance(rng, b, 3.0), 3.0)
        assert clusters.learn(0, utterance(rng, a, 3.0), 3.0)
    assert clusters.history == ()  # taught, not labelled
    turns = [(utterance(rng, v, 3.0), 3.0) for v in (b, a, b, c, a)]
    assert label_all(clusters, turns) == [1, 0, 1, 2, 0]  # a new voice after the taught ones
    assert clusters.history[0].decision is Decision.MATCHED


def test_a_number_taught_no_voice_is_never_given_and_never_reused() -> None:
    rng = np.random.default_rng(13)
    a, b, c = voices(rng, 3)
    clusters = SpeakerClusters()
    assert not clusters.learn(0, utterance(rng, a, 0.8), 0.8)  # too short to teach
    assert clusters.learn(1, utterance(rng, b, 3.0), 3.0)
    assert clusters.speaker_count == 2
    assert label_all(clusters, [(utterance(rng, v, 3.0), 3.0) for v in (b, c, a)]) == [1, 2, 3]


def test_too_short_a_lesson_teaches_nothing() -> None:
    rng = np.random.default_rng(14)
    (a,) = voices(rng, 1)
    clusters = SpeakerClusters()
    assert not clusters.learn(3, utterance(rng, a, 0.9), 0.9)
    assert clusters.speaker_count == 0 and len(clusters.centroids()) == 0
    assert clusters.assign(utterance(rng, a, 3.0), 3.0, 0.0) == 0  # as if never taught
    assert clusters.history[-1].decision is Decision.FIRST


def test_without_an_embedding_the_last_taught_speaker_keeps_the_turn() -> None:
    rng = np.random.default_rng(15)
    a, b = voices(rng, 2)
    clusters = SpeakerClusters()
    clusters.learn(0, utterance(rng, a, 3.0), 3.0)
    clusters.learn(1, utterance(rng, b, 3.0), 3.0)
    assert clusters.assign(None, 0.3, 0.0) == 1


def test_learning_moves_the_centroid_to_the_running_mean() -> None:
    clusters = SpeakerClusters(ClusterSettings(dim=3))
    first, second = unit(np.array([1.0, 0.2, 0.0])), unit(np.array([1.0, 0.0, 0.3]))
    clusters.learn(0, first, 2.0)
    clusters.learn(0, 4 * second, 2.0)  # any length: read as a direction
    np.testing.assert_allclose(clusters.centroids()[0], unit(first + second))


def test_labels_from_another_clock_are_not_held() -> None:
    """Clusters shared by two engine sessions (a handover): each times from its own start, so
    an utterance that starts before the last one did is on another clock, and the voice alone
    decides, not the hold."""
    clusters = SpeakerClusters(ClusterSettings(dim=3))
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.5, math.sqrt(3) / 2, 0.0])  # cosine 0.5
    assert label_all(clusters, [(a, 2.0), (b, 2.0), (a, 2.0)]) == [0, 1, 0]  # until 6.9 s
    angle = math.radians(31)  # nearer b (0.875), within the margin of a (0.857)
    between = np.array([math.cos(angle), math.sin(angle), 0.0])
    assert clusters.assign(between, 2.0, 1.0) == 1  # not held by speaker 0


@pytest.mark.parametrize(
    ("speaker", "duration"), [(-1, 2.0), (0, -1.0), (0, math.inf)], ids=["speaker", "neg", "inf"]
)
def test_an_impossible_lesson_is_refused(speaker: int, duration: float) -> None:
    with pytest.raises(ValueError):
        SpeakerClusters().learn(speaker, np.ones(DIM), duration)


@pytest.mark.parametrize(
    "wrong",
    [np.zeros(DIM), np.ones(DIM - 1), np.full(DIM, np.nan), np.ones((1, DIM))],
    ids=["zeros", "short", "nan", "2d"],
)
def test_an_unusable_embedding_is_refused_by_name(wrong: Embedding) -> None:
    with pytest.raises(ValueError, match="embedding"):
        SpeakerClusters().assign(wrong, 2.0, 0.0)


@pytest.mark.parametrize(
    "bad",
    [
        {"match_threshold": 0.6, "new_speaker_threshold": 0.7},
        {"max_speakers": 0},
        {"min_new_speaker_s": -1.0},
        {"update_margin": -0.1},
    ],
)
def test_inconsistent_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ClusterSettings(**bad)


Turn = tuple[int | None, float, float]  # (voice or no embedding, duration, pause before)
turns_strategy = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 3)),
        st.floats(0.1, 8.0),
        st.floats(0.0, 12.0),
    ),
    max_size=40,
)


@settings(deadline=None, max_examples=60)
@given(turns_strategy, st.sampled_from([None, 1, 2, 3]), st.integers(0, 2**32 - 1))
def test_labels_are_final_consecutive_capped_and_founded_only_by_long_voices(
    turns: list[Turn], max_speakers: int | None, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    people = voices(rng, 4)
    config = ClusterSettings(max_speakers=max_speakers)
    clusters, again = SpeakerClusters(config), SpeakerClusters(config)
    returned: list[int] = []
    at = 0.0
    for voice, duration, pause in turns:
        at += pause
        embedding = None if voice is None else utterance(rng, people[voice], duration)
        label = clusters.assign(embedding, duration, at)
        assert again.assign(embedding, duration, at) == label  # deterministic
        known = len(set(returned))
        assert label <= known  # labels count up from 0 without a hole
        if 0 < known == label:  # a new speaker is founded only by a long enough voice
            assert embedding is not None and duration >= config.min_new_speaker_s
        returned.append(label)
        assert [h.speaker for h in clusters.history] == returned  # no label ever changed
        at += duration
    assert clusters.speaker_count == len(set(returned))
    if max_speakers is not None:
        assert clusters.speaker_count <= max_speakers
