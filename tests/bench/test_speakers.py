"""bench/speakers.py scores labels after the best mapping onto the reference speakers."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from speakers import best_accuracy


def test_the_mapping_is_the_best_one_not_the_greedy_one() -> None:
    # Greedy gives label 0 to a (3 right), and then nothing is left for b: 3 of 7.
    # Best: label 0 is b (2 right) and label 1 is a (2 right): 4 of 7.
    speakers = ["a", "a", "a", "b", "b", "a", "a"]
    labels = [0, 0, 0, 0, 0, 1, 1]
    assert best_accuracy(speakers, labels) == 4 / 7


def test_unlabelled_utterances_count_as_wrong_and_labels_map_one_to_one() -> None:
    assert best_accuracy(["a", "b", "c"], [None, 0, 0]) == 1 / 3
    assert best_accuracy(["a", "a", "b", "b"], [1, 1, 2, 2]) == 1.0
