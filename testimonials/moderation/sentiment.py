"""Sentiment of a testimonial: a compound score, a label and the best quotable highlight.

vaderSentiment scores one sentence at a time. Its cost grows faster than the length of what it
is given (a single 86 K-character text took 30 s), so the text is capped, split into sentences,
and over-long "sentences" (no punctuation) are cut into chunks of at most MAX_CHUNK_WORDS words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from testimonials.moderation.language import detect_language

MAX_TEXT_CHARS = 5000
MAX_CHUNK_WORDS = 40
HIGHLIGHT_MAX_CHARS = 160
HIGHLIGHT_MIN_WORDS = 2
# A sentence must read clearly positive on its own to be quoted.
HIGHLIGHT_MIN_SCORE = 0.3
ENGLISH_OR_UNSURE = ("en", "")
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05

# Review vocabulary VADER's general lexicon lacks or mis-weights (valence on its -4..4 scale).
# Chosen on the dev half of tests/data/sentiment_labelled.tsv; docs/quality.md reports both halves.
REVIEW_LEXICON = {
    "junk": -2.0,
    "garbage": -2.2,
    "letdown": -2.0,
    "rip-off": -2.5,
    "overpriced": -1.8,
    "buggy": -1.8,
    "crashes": -1.5,
    "unusable": -2.2,
    "janky": -1.5,
    "filthy": -2.2,
    "mid": -0.8,
    "slaps": 1.8,
    "goat": 2.0,
    "flawlessly": 2.3,
    "spotless": 1.8,
    "rude": -2.0,
}

# Review idioms VADER reads wrongly word by word ("don't waste" is negated into praise), each
# rewritten to one synthetic lexicon token before scoring. Also chosen on the dev half only.
REVIEW_IDIOMS = {
    r"\b(?:do not|don't|dont) (?:waste|bother)\b": -2.5,
    r"\bwaste of (?:money|time)\b": -2.5,
    r"\b(?:would not|wouldn't|won't|will not) (?:buy|order|book|come|go) (?:again|back)\b": -2.5,
    r"\bnever again\b": -2.0,
    r"\bstay away\b": -2.5,
    r"\bripped off\b": -2.5,
    r"\bnot worth\b": -2.0,
    r"\b(?:no|zero) (?:complaints|regrets|notes)\b": 2.0,
    r"\b(?:can't|cannot|couldn't) fault\b": 2.5,
    r"\bgame[- ]changer\b": 2.5,
    r"\bto die for\b": 2.5,
    r"\bhell (?:yeah|yes)\b": 2.0,
}
# Emoji whose description VADER's lexicon does not cover, with the feeling they carry in reviews.
EMOJI_VALENCE = {
    "\U0001f621": -2.5,  # pouting face
    "\U0001f620": -2.3,  # angry face
    "\U0001f624": -2.0,  # face with steam from nose
    "\U0001f44e": -2.0,  # thumbs down
    "\U0001f644": -1.5,  # face with rolling eyes
    "\U0001f612": -1.5,  # unamused face
    "\U0001f92e": -2.5,  # face vomiting
    "\U0001f629": -2.0,  # weary face
    "\U0001f44c": 1.8,  # OK hand
    "\U0001f680": 1.2,  # rocket
    "\u2728": 1.2,  # sparkles
}
_IDIOMS = re.compile("|".join(f"(?P<vouchidiom{i}>{p})" for i, p in enumerate(REVIEW_IDIOMS)), re.IGNORECASE)
_IDIOM_VALENCE = {f"vouchidiom{i}": valence for i, valence in enumerate(REVIEW_IDIOMS.values())}
_EMOJI_TOKENS = str.maketrans({emoji: f" vouchemoji{i} " for i, emoji in enumerate(EMOJI_VALENCE)})
_EMOJI_VALENCE = {f"vouchemoji{i}": valence for i, valence in enumerate(EMOJI_VALENCE.values())}

_SENTENCE_BREAK = re.compile(r"(?<=[.!?\u2026])\s+|\n+")
_CLAUSE_BREAK = re.compile(r"\s*[,;:\u2013\u2014]\s+|\s+-\s+")
# A clause followed by one of these is not quoted alone: "Great design, but it broke" is not praise.
_CONTRAST = re.compile(r"^(but|however|though|although|except|yet|unfortunately|sadly|shame)\b", re.IGNORECASE)
_LEADING_CONNECTOR = re.compile(r"^(and|but|so|also|plus|yet|then)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class SentimentResult:
    score: float  # compound, -1..1
    label: str  # "positive" | "neutral" | "negative"
    highlight: str  # best quotable sentence or phrase, <= HIGHLIGHT_MAX_CHARS, "" if none


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    # Building one costs ~6 ms (it parses its lexicon files): one per process, never per call.
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(REVIEW_LEXICON)
    analyzer.lexicon.update(_IDIOM_VALENCE)
    analyzer.lexicon.update(_EMOJI_VALENCE)
    return analyzer


def label_for(score: float) -> str:
    if score >= POSITIVE_AT:
        return "positive"
    if score <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def sentences(text: str) -> list[str]:
    """Split capped text into sentences, cutting unpunctuated runs into bounded chunks."""
    pieces: list[str] = []
    for raw in _SENTENCE_BREAK.split(text[:MAX_TEXT_CHARS]):
        words = raw.split()
        for start in range(0, len(words), MAX_CHUNK_WORDS):
            chunk = " ".join(words[start : start + MAX_CHUNK_WORDS])
            if chunk:
                pieces.append(chunk)
    return pieces


def score_sentence(sentence: str) -> float:
    sentence = _IDIOMS.sub(lambda match: match.lastgroup, sentence).translate(_EMOJI_TOKENS)
    return _analyzer().polarity_scores(sentence)["compound"]


def analyse(text: str) -> SentimentResult:
    """Score each sentence, average the ones that carry sentiment, and pick a highlight."""
    parts = sentences(text)
    # VADER's lexicon is English: on other languages its scores are noise ("die" reads as death in
    # German), so a text clearly in another language gets no score rather than a wrong one.
    if not parts or detect_language(text[:MAX_TEXT_CHARS]) not in ENGLISH_OR_UNSURE:
        return SentimentResult(0.0, "neutral", "")
    scored = [(score_sentence(s), s) for s in parts]
    # Neutral sentences ("I ordered the blue one.") would only dilute the feeling of the others.
    felt = [c for c, _ in scored if abs(c) >= POSITIVE_AT]
    score = round(sum(felt) / len(felt), 4) if felt else 0.0
    label = label_for(score)
    highlight = _highlight(scored) if label != "negative" else ""
    return SentimentResult(score, label, highlight)


def _highlight(scored: list[tuple[float, str]]) -> str:
    """The most positive quotable sentence, or its best clause when the sentence is too long."""
    candidates: list[tuple[float, str]] = []
    for compound, sentence in scored:
        if compound < HIGHLIGHT_MIN_SCORE or sentence.rstrip().endswith("?"):
            continue
        if len(sentence) <= HIGHLIGHT_MAX_CHARS:
            candidates.append((compound, sentence))
        else:
            candidates.extend(_clauses(sentence))
    candidates = [(c, _tidy(s)) for c, s in candidates]
    candidates = [
        (c, s) for c, s in candidates if len(s.split()) >= HIGHLIGHT_MIN_WORDS and len(s) <= HIGHLIGHT_MAX_CHARS
    ]
    if not candidates:
        return ""
    # Most positive first; among near-ties, the shorter one reads better in a widget.
    best = max(candidates, key=lambda pair: (round(pair[0], 1), -len(pair[1])))
    return best[1]


def _clauses(sentence: str) -> list[tuple[float, str]]:
    parts = [p for p in _CLAUSE_BREAK.split(sentence) if p.strip()]
    found = []
    for index, part in enumerate(parts):
        following = parts[index + 1] if index + 1 < len(parts) else ""
        if _CONTRAST.match(following.strip()):
            continue
        compound = score_sentence(part)
        if compound >= HIGHLIGHT_MIN_SCORE:
            found.append((compound, part))
    return found


def _tidy(phrase: str) -> str:
    phrase = _LEADING_CONNECTOR.sub("", phrase.strip()).strip(" ,;:-")
    if phrase and phrase[0].islower():
        phrase = phrase[0].upper() + phrase[1:]
    return phrase
