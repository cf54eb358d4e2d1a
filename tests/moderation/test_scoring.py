"""Scoring one sentence: VADER's own scores, the review rules around them, and cost that stays linear."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from testimonials.moderation import lexicon, scoring, sentiment, topics

DATA = Path(__file__).resolve().parent.parent / "data"
RAW = SentimentIntensityAnalyzer()


def _plain_vader_of_ours() -> scoring._Analyzer:
    """Vouch's analyzer front end on VADER's own lexicon (no review words): must score exactly as VADER."""
    analyzer = scoring._Analyzer.__new__(scoring._Analyzer)
    SentimentIntensityAnalyzer.__init__(analyzer)
    analyzer.emoji_table = str.maketrans({e: f" {d}" for e, d in analyzer.emojis.items() if len(e) == 1})
    return analyzer


def test_its_vader_scores_exactly_as_vadersentiment_on_the_labelled_sets():
    ours = _plain_vader_of_ours()
    texts = [
        json.loads(line)["text"]
        for name in ("dev", "heldout")
        for line in (DATA / f"sentiment_reviews_{name}.jsonl").open()
    ]
    texts += [
        line.split("\t")[2] for line in (DATA / "sentiment_labelled.tsv").open() if line[0] != "#" and line.strip()
    ]
    texts += [
        "GREAT product BUT terrible service!!",
        "I LOVE IT",
        "not bad, but not GOOD either??",
        ":) :( ok",
        "kind of ok",
    ]
    for text in texts:
        assert ours.score(text)[0] == RAW.polarity_scores(text)["compound"], text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from(
            [
                "good",
                "GREAT",
                "not",
                "never",
                "but",
                "very",
                "so",
                "this",
                "without",
                "doubt",
                "kind",
                "of",
                "bad",
                "no",
                "least",
                "at",
                "terrible",
                "😍",
                "😡",
                "!",
                "?",
                ",",
                "love",
                "hate",
                "sort",
                "the",
                "isn't",
            ]
        ),
        max_size=30,
    )
)
def test_its_vader_scores_exactly_as_vadersentiment_on_any_words(words):
    text = " ".join(words)
    assert _plain_vader_of_ours().score(text)[0] == RAW.polarity_scores(text)["compound"]


def test_a_phrase_token_holds_its_own_negation():
    # "no answers" is one complaint: the "no" before it must not turn it into praise.
    assert scoring.score_sentence("No maintenance, no answers.").score < 0


def test_it_records_each_cue_with_the_sentence_it_came_from():
    scored = scoring.score_text(["Great, another update.", "It never arrived.", "Paid for itself."])
    kinds = [[c.kind for c in s.cues] for s in scored.sentences]
    assert kinds == [["sarcasm"], ["complaint"], ["outcome"]]
    assert scored.sentences[1].cues[0].topic == "delivery"


def test_no_phrase_spans_two_sentences_scored_together():
    scored = scoring.score_text(["I would never", "buy anything again."])
    assert all(not s.cues for s in scored.sentences)


def test_it_keeps_the_written_words_one_per_valence():
    scored = scoring.score_sentence("Lovely croissants, a little steep though.")
    assert scored.words == ["Lovely", "croissants,", "a", "little", "steep", "though."]
    assert len(scored.valences) == len(scored.words)


# --------------------------------------------------------------------------- hostile text: linear cost


def _count_work(monkeypatch) -> dict:
    """Wrap what does the work (VADER, every phrase pattern) to count what each is given."""
    work = {"vader_calls": 0, "vader_chars": 0, "vader_max_words": 0, "pattern_tries": 0}
    analyzer = scoring._analyzer()
    score = analyzer.score

    def counted_score(text):
        work["vader_calls"] += 1
        work["vader_chars"] += len(text)
        work["vader_max_words"] = max(work["vader_max_words"], len(text.split()))
        return score(text)

    class Counted:
        def __init__(self, pattern):
            self.pattern = pattern

        def match(self, text, pos=0):
            work["pattern_tries"] += 1
            return self.pattern.match(text, pos)

    rules = scoring._rules()
    monkeypatch.setattr(analyzer, "score", counted_score)
    counted = dataclasses.replace(rules, phrases=tuple(Counted(p) for p in rules.phrases))
    monkeypatch.setattr(scoring, "_rules", lambda: counted)
    return work


HOSTILE_WORDS = st.sampled_from(
    ["not", "never", "no", "but", "up", "down", "from", "to", "1", "2", "cost", "revenue", "'great'", '"', "'",
     "waste", "of", "money", "saves", "me", "hours", "!", "?", ".", "\u2026", "😡", "a" * 50, "great,", "another",
     "worth", "it", "customer", "service", "support", "\n", "x" * 500]
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(HOSTILE_WORDS, min_size=1, max_size=2500))
def test_hostile_text_cannot_make_scoring_slower_than_linear(words):
    """What the work is made of stays proportional to the text: every VADER call gets a bounded piece,
    their total size is a constant times the text's, and phrase patterns (each of bounded repetition)
    are tried a bounded number of times per word. No timing is asserted: the work is counted."""
    text = " ".join(words)
    with pytest.MonkeyPatch.context() as monkeypatch:
        work = _count_work(monkeypatch)
        reading = sentiment.read(text)
        sentiment.judge(reading, 5)
        topics.find(reading, topics.vocabulary())
    capped = min(len(text), sentiment.MAX_TEXT_CHARS)
    words_in = len(text[: sentiment.MAX_TEXT_CHARS].split())
    # A phrase token can be longer than the phrase it stands for: at most twice the characters.
    assert work["vader_max_words"] <= sentiment.MAX_CHUNK_WORDS
    assert work["vader_chars"] <= 3 * capped + 20 * work["vader_calls"]
    assert work["vader_calls"] <= 2 * (words_in + 1)
    assert work["pattern_tries"] <= 6 * (words_in + 1)


def test_every_phrase_pattern_has_only_bounded_repetition():
    # Linear matching by construction: "~" is {0,3} words, and nothing repeats a group unboundedly.
    for phrase in lexicon.review_phrases():
        pattern = lexicon.compile_phrase(phrase.pattern)
        assert ")*" not in pattern and ")+" not in pattern, phrase.pattern
