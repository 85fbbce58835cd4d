"""Where a library search's words lie in a hit's line (app/domain/search_query.py): the same
words the index matched (case and accents folded, `word*` a prefix, "a phrase" in order), and
the part of a long line to show so that the first of them is in view."""

from __future__ import annotations

from app.domain.search_query import matched_spans, snippet


def words(text: str, typed: str) -> list[str]:
    return [text[start:end] for start, end in matched_spans(text, typed)]


def test_whole_words_match_whatever_their_case_and_accents() -> None:
    text = "The Budget: café budgets and the CAFE budget."
    assert words(text, "budget cafe") == ["Budget", "café", "CAFE", "budget"]
    assert words(text, "budge") == []  # a word, not a substring


def test_words_are_cut_as_the_index_cuts_them() -> None:
    decomposed = "my re\u0301sume\u0301 costs $5"  # accents as combining marks
    assert words(decomposed, "resume 5") == ["re\u0301sume\u0301", "5"]
    assert words("snake_case and a-b", "case b") == ["case", "b"]


def test_a_star_makes_a_prefix_and_quotes_make_a_phrase() -> None:
    text = "budget budgets, the budget review; review the budget"
    assert words(text, "budget*") == ["budget", "budgets", "budget", "budget"]
    assert words(text, '"budget review"') == ["budget review"]
    assert words(text, '"the budget" review') == ["the budget", "review", "review", "the budget"]


def test_query_syntax_is_words_and_nothing_typed_matches_nothing() -> None:
    assert words("not this OR that", "OR") == ["OR"]
    assert words("snake_case words", "words _ __") == ["words"]
    assert words("anything", "") == [] and words("anything", '"" *') == []


def test_overlapping_terms_give_one_span() -> None:
    assert matched_spans("budget review", '"budget review" review') == [(0, 13)]


def test_a_long_line_is_shown_from_a_little_before_its_first_hit() -> None:
    text = "word " * 40 + "the budget was agreed"
    shown, spans = snippet(text, matched_spans(text, "budget"), before=12)
    assert shown.startswith("…") and shown.endswith("the budget was agreed")
    assert [shown[start:end] for start, end in spans] == ["budget"]
    assert len(shown) < len(text)


def test_a_short_line_or_an_early_hit_is_shown_whole() -> None:
    text = "the budget was agreed"
    assert snippet(text, matched_spans(text, "budget"), before=12) == (text, [(4, 10)])
