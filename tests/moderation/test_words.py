"""Profanity and blocklist matching: disguises undone, innocent words left alone."""

from __future__ import annotations

import pytest

from testimonials.moderation import words


@pytest.mark.parametrize(
    "text",
    [
        "This is the best fucking blender",
        "Total sh1t product",
        "They are $hitty scammers",
        "F*ck this company",
        "motherf**kers, all of them",
        "f u c k this app",
        "f.u.c.k this app",
        "Fuuuuuck yes",
        "What a b1tch",
        "Decent class but the music was sh!t",
        "C'est de la merde",
        "Das ist Scheiße",
    ],
)
def test_it_finds_profanity_however_it_is_disguised(text):
    assert words.profanity().find(text)


@pytest.mark.parametrize(
    "text",
    [
        "We stayed in Scunthorpe for a week",
        "A class act, the assistant knew the cocktail menu",
        "Shitake mushroom risotto was lovely",
        "Dick at the Middlesex shop was helpful",
        "Hell yeah, damn good coffee, no crap",
        "Rated 5 stars, 10/10, paid $45",
        "I passed my exam thanks to the classes",
    ],
)
def test_it_leaves_innocent_words_alone(text):
    assert words.profanity().find(text) == []


def test_it_returns_the_words_as_written_for_the_admin():
    assert words.profanity().find("Total sh1t, total SH1T.") == ["sh1t", "SH1T"]


def test_it_masks_a_word_for_display():
    assert words.mask("shit") == "s**t"
    assert words.mask("ass") == "a*s"


def test_it_finds_blocklisted_words_and_phrases_in_any_case_or_disguise():
    text = "Way better than G4dgetHub and their hot  yoga classes; I tried gadgethubs too."
    assert words.find_phrases(text, ["gadgethub", "Hot Yoga", "flexfit"]) == ["gadgethub", "Hot Yoga"]


def test_it_matches_blocklist_entries_as_whole_words_only():
    assert words.find_phrases("Their hubs for gadgets are fine", ["gadgethub"]) == []
    assert words.find_phrases("Acme is great", ["acm"]) == []


def test_it_ignores_empty_blocklist_entries():
    assert words.find_phrases("anything at all", ["", "  "]) == []
