"""Sentiment of a testimonial (first version; the pipeline issue refines it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

MAX_TEXT_CHARS = 5000
HIGHLIGHT_MAX_CHARS = 160
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class SentimentResult:
    score: float
    label: str
    highlight: str


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    # Building one costs ~6 ms: one per process.
    return SentimentIntensityAnalyzer()


def analyse(text: str) -> SentimentResult:
    sentences = [s.strip() for s in _SENTENCE_END.split(text[:MAX_TEXT_CHARS]) if s.strip()]
    if not sentences:
        return SentimentResult(0.0, "neutral", "")
    scored = [(_analyzer().polarity_scores(s)["compound"], s) for s in sentences]
    score = sum(c for c, _ in scored) / len(scored)
    label = "positive" if score >= 0.05 else "negative" if score <= -0.05 else "neutral"
    best, sentence = max(scored, key=lambda pair: pair[0])
    highlight = sentence if best > 0.05 and len(sentence) <= HIGHLIGHT_MAX_CHARS else ""
    return SentimentResult(round(score, 4), label, highlight)
