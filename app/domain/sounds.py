"""How words sound, for matching what two decodes, or two microphones, heard (pure).

Whisper spells a word it half-hears after its sound: a name the user's way or another
("Gurkhas", "workers"), an echo a little differently from the original ("ask" and "as",
"for" and "four"). Metaphone keys (jellyfish) stand for the sound of English words: alike
sounds, one key, whatever the spelling.
"""

from __future__ import annotations

from difflib import SequenceMatcher

import jellyfish


def sound_key(word: str) -> str:
    """The Metaphone key of a word (letters only), or the word itself when it has none."""
    return jellyfish.metaphone(word) or word.upper()


def likeness(a: str, b: str) -> float:
    """How alike two words (letters only) are, spelled or sounded: 0 to 1."""
    if not a or not b:
        return 0.0
    spelled = SequenceMatcher(None, a, b).ratio()
    key_a, key_b = jellyfish.metaphone(a), jellyfish.metaphone(b)
    if not key_a or not key_b:
        return spelled
    distance = jellyfish.levenshtein_distance(key_a, key_b)
    return max(spelled, 1 - distance / max(len(key_a), len(key_b)))
