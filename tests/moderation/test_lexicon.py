"""The review vocabulary's data files and the phrase language they are written in."""

from __future__ import annotations

import re

import pytest

from testimonials.moderation import lexicon


def test_every_data_file_loads_and_every_phrase_compiles():
    assert len(lexicon.review_words()) > 50
    phrases = lexicon.review_phrases()
    assert len(phrases) > 80
    for phrase in phrases:
        re.compile(lexicon.compile_phrase(phrase.pattern))
        assert phrase.kind in lexicon.CUE_KINDS
        assert -4 <= phrase.valence <= 4
    words = lexicon.outcome_words()
    assert {"good", "bad", "up", "down", "price"} == set(words) and all(words.values())
    codes = [code for code, _, _ in lexicon.builtin_topics()]
    assert {"support", "speed", "price", "ease_of_use", "quality", "delivery", "onboarding"} <= set(codes)


def test_a_phrase_names_only_built_in_topics():
    codes = {code for code, _, _ in lexicon.builtin_topics()}
    assert {p.topic for p in lexicon.review_phrases() if p.topic} <= codes


def _matches(phrase: str, text: str) -> str | None:
    found = re.compile(lexicon.compile_phrase(phrase), re.IGNORECASE).search(text)
    return found.group(0) if found else None


def test_the_phrase_language_reads_alternatives_optional_words_gaps_numbers_and_endings():
    assert _matches("(do not|don't) (waste|bother)", "Honestly, don't bother.") == "don't bother"
    assert _matches("(saves|saved) (me|us)? ~ (hours|time)", "It saved us a lot of time") == "saved us a lot of time"
    assert _matches("(saves|saved) (me|us)? ~ (hours|time)", "It saves hours") == "saves hours"
    assert _matches("# (minutes|hours) late", "twenty minutes late") == "twenty minutes late"
    assert _matches("# (minutes|hours) late", "45 minutes late") == "45 minutes late"
    assert _matches("justif* ~ price", "it justifies the price") == "justifies the price"
    assert _matches("never again", "forever again") is None  # whole words only


def test_a_gap_of_words_is_bounded_and_never_crosses_sentences_scored_together():
    assert _matches("never ~ problem", "never had a single problem") is not None
    assert _matches("never ~ problem", "never had one more single problem") is None  # four words: too far
    assert _matches("never ~ problem", f"never had {lexicon.SEPARATOR} a problem") is None


def test_a_phrase_may_open_a_sentence_or_end_at_a_quote_mark():
    pattern = re.compile(lexicon.compile_phrase("^ (oh)? sure <q>"), re.IGNORECASE)
    assert pattern.match("Oh sure, 'lifetime access'")
    assert pattern.match("Sure 'premium'")
    assert not pattern.match("I am sure 'it'")


@pytest.mark.parametrize("bad", ["(unbalanced", "closed)", "a(b|c)", "", "(x)? (y)?", "~ waste"])
def test_a_malformed_phrase_is_refused_when_the_data_loads(bad):
    with pytest.raises(lexicon.PhraseError):
        lexicon.compile_phrase(bad)


def test_a_phrase_is_tried_only_where_its_opening_words_are():
    assert lexicon.first_words("not worth") == (frozenset({"not worth"}), (), False)
    words, prefixes, anywhere = lexicon.first_words("# clicks")
    assert "two" in words and "a" not in words and "7" in prefixes and not anywhere


@pytest.mark.parametrize(
    ("written", "base"),
    [
        ("answered", "answer"),
        ("answers", "answer"),
        ("answering", "answer"),
        ("deliveries", "delivery"),
        ("stopped", "stop"),
        ("shipping", "ship"),
        ("prices", "pric"),
        ("pricing", "pric"),
        ("price", "pric"),
        ("speed", "speed"),
        ("thing", "thing"),
        ("team's", "team"),
        ("falling", "fall"),
    ],
)
def test_base_forms_undo_inflection_only(written, base):
    assert lexicon.base_form(written) == base


def test_derived_words_keep_their_own_base_form():
    assert lexicon.base_form("supportive") != lexicon.base_form("support")


def test_written_forms_cover_the_regular_inflections():
    assert {"answer", "answers", "answered", "answering"} <= lexicon.written_forms(lexicon.base_form("answer"))
    assert {"delivery", "deliveries"} <= lexicon.written_forms(lexicon.base_form("delivery"))
    assert all(lexicon.base_form(form) == "ship" for form in lexicon.written_forms("ship"))
