"""Where the voice changes inside a final (app/server/asr/speaker_turns.py) and how its words
are cut into one final per turn (app/server/asr/labelling.py), on windows made like GE2E's:
non-negative unit vectors, strangers at a cosine of about 0.5, one voice's windows at about
0.9 to each other."""

from __future__ import annotations

import numpy as np
import pytest

from app.server.asr.decoder import DecodedWord
from app.server.asr.labelling import Piece, Turn, pieces
from app.server.asr.speaker_clusters import SpeakerClusters
from app.server.asr.speaker_turns import (
    STEP_S,
    WINDOW_S,
    TurnSettings,
    boundary_time_s,
    turn_boundaries,
    voice_windows,
)
from app.server.speakers.encoder import unit_mean

RNG = np.random.default_rng(7)


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def voice() -> np.ndarray:
    """A voice: a sparse non-negative direction."""
    return unit(np.abs(RNG.normal(size=256)) * (RNG.random(256) < 0.3))


def windows(*runs: tuple[np.ndarray, int]) -> np.ndarray:
    """Successive windows: each run's voice plus the non-negative noise every window has."""
    return np.array(
        [unit(centre + 0.04 * np.abs(RNG.normal(size=256))) for centre, n in runs for _ in range(n)]
    )


def test_the_synthetic_windows_are_as_alike_as_ge2e_windows() -> None:
    a, b = voice(), voice()
    one, other = windows((a, 2)), windows((b, 1))
    assert one[0] @ one[1] > 0.85
    assert 0.4 < one[0] @ other[0] < 0.7


def test_one_voice_throughout_is_never_split() -> None:
    assert turn_boundaries(windows((voice(), 14))) == []


def test_a_reply_without_a_pause_is_split_where_the_voice_changes() -> None:
    a, b = voice(), voice()
    assert turn_boundaries(windows((a, 6), (b, 5))) == [6]


def test_three_voices_give_two_boundaries_and_no_more_than_max_pieces() -> None:
    a, b, c = voice(), voice(), voice()
    three = windows((a, 5), (b, 5), (c, 5))
    assert turn_boundaries(three) == [5, 10]
    assert len(turn_boundaries(three, TurnSettings(max_pieces=2))) == 1


def test_a_side_shorter_than_min_windows_is_not_split_off() -> None:
    a, b = voice(), voice()
    assert turn_boundaries(windows((a, 1), (b, 9))) in ([], [2])  # never [1]
    assert turn_boundaries(windows((a, 1), (b, 2))) == []
    assert turn_boundaries(windows((a, 2), (b, 9)), TurnSettings(min_windows=3)) in ([], [3])


def test_voices_only_a_little_apart_stay_together() -> None:
    a = voice()
    b = unit(a + 0.3 * voice())  # the same voice, another tone
    assert a @ b > 0.9
    assert turn_boundaries(windows((a, 6), (b, 6))) == []


def test_the_boundary_time_is_where_the_two_windows_overlap() -> None:
    assert pytest.approx(0.77) == STEP_S and pytest.approx(1.6) == WINDOW_S
    # window 5 starts at 3.85 s; window 4 ends at 3.08 + 1.6 = 4.68 s
    assert boundary_time_s(5) == pytest.approx((3.85 + 4.68) / 2)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        TurnSettings(split_below=1.5)
    with pytest.raises(ValueError):
        TurnSettings(min_windows=0)


def word(text: str, start: float, end: float) -> DecodedWord:
    return DecodedWord(" " + text, start, end, 0.9)


def test_words_go_to_the_turn_their_middle_falls_in_and_spans_meet_in_the_pause() -> None:
    words = [word("yes", 1.0, 1.4), word("so", 1.5, 2.0), word("no", 2.4, 2.8)]
    turns = (Turn(1.0, 0), Turn(2.1, 1))
    cut = pieces(words, 1.0, 3.0, turns)
    assert [(p.speaker, [w.bare for w in p.words]) for p in cut] == [
        (0, ["yes", "so"]),
        (1, ["no"]),
    ]
    assert [(p.start, p.end) for p in cut] == [(1.0, pytest.approx(2.2)), (pytest.approx(2.2), 3.0)]


def test_a_turn_without_words_makes_no_final_and_one_turn_makes_one() -> None:
    words = [word("yes", 1.0, 1.4), word("so", 1.5, 2.0)]
    assert len(pieces(words, 1.0, 3.0, (Turn(1.0, 0), Turn(2.5, 1)))) == 1
    assert pieces(words, 1.0, 3.0, (Turn(1.0, 4),))[0].speaker == 4
    # A word before the first turn's estimated start still belongs to it.
    assert pieces(words, 0.5, 3.0, (Turn(1.2, 3),))[0].speaker == 3
    assert pieces(words, 1.0, 3.0, None) == [Piece(tuple(words), 1.0, 3.0, None)]


def test_one_voice_is_labelled_exactly_as_a_whole_final_was() -> None:
    a = voice()
    one = windows((a, 8))
    clusters, reference = SpeakerClusters(), SpeakerClusters()
    turns = voice_windows(clusters, one, 7.0, 10.0).turns([11.0, 15.0])
    assert turns == (Turn(10.0, reference.assign(unit_mean(one), 7.0, 10.0)),)
    assert clusters.history == reference.history


def test_each_turn_of_a_reply_is_labelled_from_its_own_windows() -> None:
    a, b = voice(), voice()
    clusters = SpeakerClusters()
    clusters.assign(unit_mean(windows((a, 6))), 5.0, 0.0)  # speaker 0 spoke before
    voices = voice_windows(clusters, windows((a, 5), (b, 6)), 8.5, 20.0)
    assert voices.boundaries == (5,)
    turns = voices.turns([21.0, 23.0, 26.0, 28.0])
    assert [t.speaker for t in turns] == [0, 1]
    assert turns[0].start_s == 20.0
    assert turns[1].start_s == pytest.approx(20.0 + boundary_time_s(5))


def test_a_turn_without_words_founds_no_speaker() -> None:
    """Laughter before the first word: its windows join the words' turn, and no label is
    spent on it (with two speakers expected, it would take the second voice's place)."""
    laughter, a = voice(), voice()
    clusters = SpeakerClusters()
    voices = voice_windows(clusters, windows((laughter, 4), (a, 6)), 8.0, 0.0)
    assert voices.boundaries == (4,)
    assert voices.turns([5.0, 6.5, 7.5]) == (Turn(0.0, 0),)
    assert clusters.speaker_count == 1
    assert len(clusters.history) == 1
