"""Sentiment of a testimonial the way a person reads a review: a label, the reason for it, and a highlight.

VADER (vaderSentiment) stays at the core and scores one sentence at a time. Around it, what reviews
need and VADER's general lexicon misses (data in `lexicon.py`'s files):

- review words and phrases ("clunky", "stopped working", "never had a single problem"), each phrase
  rewritten to one token with its valence before VADER sees the sentence, so VADER's own negation
  and emphasis rules still apply around it;
- outcomes: a measure that moved ("conversion went up", "churn is down by a third", "from 40 to 120");
- quoted words ("'premium quality'") are the seller's, not the customer's: they carry no feeling;
- sarcasm cues ("Great, another charger that...", "Oh sure, 'lifetime access'", a lone "Brilliant."
  after a complaint);
- contrast and concession: a sentence opening with "but" or "however" weighs more than the one
  before it, a trailing "..., though." less, and in "Although X, Y" the Y decides;
- the customer's own star rating, as evidence beside the text (`judge`): the text decides when it is
  clear, the stars when the text is not, and the reason says which and when the two disagree.

Cost: VADER's is super-linear in what it is given (a single 86 K-character text took 30 s), so the
text is capped, split into sentences, and long runs are cut into chunks of at most MAX_CHUNK_WORDS
words and MAX_CHUNK_CHARS characters; every pattern here only ever runs on such a chunk.

Languages VADER cannot read get no score at all: `label == "unscored"`, never a fake neutral.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from testimonials.moderation import lexicon, scoring
from testimonials.moderation.language import detect_language, language_name, language_of_words
from testimonials.moderation.scoring import Cue

MAX_TEXT_CHARS = 5000
MAX_CHUNK_WORDS = 40
MAX_CHUNK_CHARS = 400
HIGHLIGHT_MAX_CHARS = 160
HIGHLIGHT_MIN_WORDS = 2
# A sentence must read clearly positive on its own to be quoted.
HIGHLIGHT_MIN_SCORE = 0.3
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
# The labels, declared once: Testimonial.Sentiment, the admin's badge and filter and the API read these.
POSITIVE, NEUTRAL, NEGATIVE, UNSCORED = "positive", "neutral", "negative", "unscored"
LABELS = (POSITIVE, NEUTRAL, NEGATIVE, UNSCORED)

# The text overrides the stars only when it reads this clearly the other way (a 4-5 star review
# whose text reads at or below -TEXT_OVERRIDES is negative; rules.MISMATCH_MAX_SCORE matches it).
TEXT_OVERRIDES = 0.4
# A 3-star review is neutral unless its text is at least this clear.
THREE_STARS_NEED = 0.6
# Sentence weights for contrast and concession.
AFTER_CONTRAST = 1.6
BEFORE_CONTRAST = 0.6
CONCESSION = 0.5
SUBORDINATE = 0.3

# Sentence openings (lower case, as a sentence's first characters): a contrast makes the sentence weigh
# more than the one before it; a subordinate clause ("Although X, Y") gives way to the main one.
_CONTRAST_OPENERS = tuple(
    f"{word}{end}"
    for word in ("but", "however", "though", "still", "yet", "unfortunately", "sadly", "that said", "except",
                 "having said that", "then again")
    for end in (" ", ",", ".", "!")
)  # fmt: skip
_SUBORDINATE_OPENERS = tuple(
    f"{word}{end}" for word in ("although", "though", "even though", "despite", "while", "whilst", "even if")
    for end in (" ", ",")
)  # fmt: skip
_TRAILING_CONCESSIONS = (" though", " tho", " however", " but still", ",though")
# A short sentence made only of these is an interjection: after a complaint, "Brilliant." is sarcasm.
_INTERJECTIONS = frozenset(
    "oh great just brilliant lovely perfect fantastic wonderful awesome nice wow amazing superb marvellous "
    "marvelous cheers thanks thank you so really well yay splendid terrific".split()
)
# A sentence ends at . ! ? or an ellipsis followed by space, or at a line break (a lookbehind costs more).
_SENTENCE_BREAK = re.compile(r"[.!?\u2026]\s+|\n+")
# Starts only where a whitespace run starts: from inside one, each start rescanned the run (quadratic).
_CLAUSE_BREAK = re.compile(r"(?<!\s)\s*+[,;:\u2013\u2014]\s++|(?<!\s)\s++-\s++")
# A clause followed by one of these is not quoted alone: "Great design, but it broke" is not praise.
_CONTRAST = re.compile(r"^(but|however|though|although|except|yet|unfortunately|sadly|shame)\b", re.IGNORECASE)
_LEADING_CONNECTOR = re.compile(r"^(and|but|so|also|plus|yet|then)\s+", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_ASCII_LETTER = re.compile("[A-Za-z]")
_WORDS = re.compile(r"[\w']+")
_UNITS = frozenset(
    "second seconds minute minutes min mins hour hours day days week weeks month months year years".split()
)
_DURATION = re.compile(
    r"\b(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty)\s+"
    r"(?:seconds?|minutes?|mins?|hours?|days?|weeks?|months?|years?)\b"
)
# Words that make praise generic: a sentence of only these says nothing a reader can picture.
_GENERIC = frozenset(
    """a an the and or but so very really truly just absolutely totally highly definitely i we you they it this that
    these those my our your their is was are were be been am has have had do does did will would can could
    great good amazing awesome excellent fantastic wonderful perfect best better love loved lovely nice brilliant
    outstanding superb incredible recommend recommended product products service services company team experience
    thank thanks thankyou everything all ever overall 5 five stars star job work guys people place highly
    of to for with in on at from again much many lot lots super top quality happy pleased satisfied""".split()
)


class ScoredSentence(NamedTuple):
    text: str  # as written
    score: float  # VADER's compound, -1..1, after the review rules
    weight: float  # how much it counts in the text's score
    cues: Sequence[Cue] = ()
    words: Sequence[str] = ()  # as VADER scored them (phrases as tokens), one per whitespace-separated word
    valences: Sequence[float] = ()  # VADER's valence of each of `words`

    @property
    def concrete(self) -> int:
        """How concrete it is: an outcome or a solved problem, a number or duration, words beyond praise."""
        points = 2 if any(c.kind in ("outcome", "relief") and c.valence > 0 for c in self.cues) else 0
        lower = self.text.lower()
        words = _WORDS.findall(lower)
        if _DIGIT.search(lower) or (not _UNITS.isdisjoint(words) and _DURATION.search(lower)):
            points += 1
        if len(set(words) - _GENERIC) >= 3:
            points += 1
        return points


class Reading(NamedTuple):
    """What the text says, before the stars are considered."""

    language: str  # detect_language(text): "" when unsure
    scored: bool  # False: a language Vouch cannot read, or no text
    sentences: tuple[ScoredSentence, ...] = ()
    score: float | None = None  # the text's own score, -1..1; None when not scored
    # The sentences joined, lower-cased, their words and where each starts (scoring.TextScore): topics reuse them.
    lower: str = ""
    tokens: Sequence[str] = ()
    bounds: Sequence[int] = ()

    @property
    def felt(self) -> list[ScoredSentence]:
        return [s for s in self.sentences if abs(s.score) >= POSITIVE_AT]


@dataclass(frozen=True)
class SentimentResult:
    score: float | None  # the text's own score (compound, -1..1); None when not scored
    label: str  # one of LABELS
    highlight: str  # best quotable sentence or phrase, <= HIGHLIGHT_MAX_CHARS, "" if none
    reason: str = ""  # why this label, in a sentence an admin reads
    cues: tuple[Cue, ...] = field(default=(), compare=False)


# --------------------------------------------------------------------------- reading the text


def label_for(score: float) -> str:
    if score >= POSITIVE_AT:
        return POSITIVE
    if score <= NEGATIVE_AT:
        return NEGATIVE
    return NEUTRAL


def _split(text: str) -> list[str]:
    """Sentences as written, each with its closing punctuation."""
    pieces, last = [], 0
    for match in _SENTENCE_BREAK.finditer(text):
        start = match.start()
        end = start if text[start] == "\n" else start + 1
        pieces.append(text[last:end])
        last = match.end()
    pieces.append(text[last:])
    return pieces


def sentences(text: str) -> list[str]:
    """Split capped text into sentences, cutting long runs into chunks bounded in words and characters."""
    pieces: list[str] = []
    for raw in _split(text[:MAX_TEXT_CHARS]):
        if len(raw) <= MAX_CHUNK_CHARS:  # the usual case: a sentence of ordinary length
            words = raw.split()
            if len(words) <= MAX_CHUNK_WORDS:
                if words:
                    pieces.append(" ".join(words))
                continue
        words = []
        for word in raw.split():
            # A "word" longer than a chunk (no spaces at all) is cut too.
            words.extend(word[i : i + MAX_CHUNK_CHARS] for i in range(0, len(word), MAX_CHUNK_CHARS))
        chunk: list[str] = []
        size = 0
        for word in words:
            if chunk and (len(chunk) >= MAX_CHUNK_WORDS or size + 1 + len(word) > MAX_CHUNK_CHARS):
                pieces.append(" ".join(chunk))
                chunk, size = [], 0
            chunk.append(word)
            size += len(word) + (1 if size else 0)
        if chunk:
            pieces.append(" ".join(chunk))
    return pieces


def is_scoreable(text: str, language: str) -> bool:
    """English, or too little to tell in the Latin alphabet (VADER reads emoji and short English alike)."""
    if language == "en":
        return True
    if language:
        return False
    letters = [ch for ch in text[:2000] if ch.isalpha()]
    return not letters or sum(ch.isascii() for ch in letters) >= 0.8 * len(letters)


def score_sentence(sentence: str) -> tuple[float, tuple[Cue, ...]]:
    """One sentence's compound score and cues (scoring.score_sentence, for callers that need no more)."""
    scored = scoring.score_sentence(sentence)
    return scored.score, scored.cues


def read(text: str) -> Reading:
    """Score each sentence with the review rules and weigh them into the text's own score."""
    capped = (text or "")[:MAX_TEXT_CHARS]
    parts = sentences(capped)
    if parts and capped.isascii():
        # Latin letters only: the words the scoring finds anyway tell the language (no second pass).
        text_score = scoring.score_text(parts)
        language = language_of_words(text_score.tokens) if _ASCII_LETTER.search(capped) else ""
        if not is_scoreable(capped, language):
            return Reading(language=language, scored=False)
    else:
        language = detect_language(capped)
        if not parts or not is_scoreable(capped, language):
            return Reading(language=language, scored=False)
        text_score = scoring.score_text(parts)
    scored: list[ScoredSentence] = []
    for index, (part, found) in enumerate(zip(parts, text_score.sentences, strict=True)):
        head = part[:20].lower()
        weight = CONCESSION if part.rstrip(".! ").lower().endswith(_TRAILING_CONCESSIONS) else 1.0
        if index and head.startswith(_CONTRAST_OPENERS):
            scored[index - 1] = scored[index - 1]._replace(weight=scored[index - 1].weight * BEFORE_CONTRAST)
            weight *= AFTER_CONTRAST
        score = _with_concession(found) if head.startswith(_SUBORDINATE_OPENERS) else found.score
        scored.append(ScoredSentence(part, score, weight, found.cues, found.words, found.valences))
    scored = _sarcastic_interjections(scored)
    felt = [s for s in scored if abs(s.score) >= POSITIVE_AT]
    total = sum(s.weight for s in felt)
    score = round(sum(s.score * s.weight for s in felt) / total, 4) if felt else 0.0
    return Reading(
        language=language,
        scored=True,
        sentences=tuple(scored),
        score=score,
        lower=text_score.lower,
        tokens=text_score.tokens,
        bounds=text_score.bounds,
    )


def _with_concession(found: scoring.SentenceScore) -> float:
    """'Although X, Y': Y decides (a sentence opening with "although" or the like)."""
    cut = next((i + 1 for i, word in enumerate(found.words[:-1]) if word.endswith(",")), 0)
    if not cut:
        return found.score
    conceded = scoring.compound(found.valences[:cut], " ".join(found.words[:cut]))
    main = scoring.compound(found.valences[cut:], " ".join(found.words[cut:]))
    return round(SUBORDINATE * conceded + (1 - SUBORDINATE) * main, 4)


def _sarcastic_interjections(scored: list[ScoredSentence]) -> list[ScoredSentence]:
    """A lone "Brilliant." or "Great, just great." beside complaints is sarcasm: it counts against."""
    if len(scored) < 2:
        return scored
    interjections = [
        i
        for i, s in enumerate(scored)
        if s.score > 0
        and len(s.words) <= 4
        and all(w.strip(scoring.WORD_EDGES).lower() in _INTERJECTIONS for w in s.text.split())
    ]
    if not interjections or len(interjections) == len(scored):
        return scored
    rest = [s.score for i, s in enumerate(scored) if i not in interjections and abs(s.score) >= POSITIVE_AT]
    if not rest or sum(rest) / len(rest) > -0.3:
        return scored
    for i in interjections:
        s = scored[i]
        scored[i] = s._replace(score=-s.score, cues=(*s.cues, Cue("sarcasm", s.text, scoring.SARCASM_VALENCE)))
    return scored


# --------------------------------------------------------------------------- judging, with the stars


def judge(reading: Reading, rating: int | None = None) -> SentimentResult:
    """The label a person would give: the text when it is clear, the customer's stars when it is not.

    The highlight never depends on the rating (it is chosen from the text alone).
    """
    if not reading.scored:
        return _unscored(reading, rating)
    text_score = reading.score if reading.score is not None else 0.0
    cues = tuple([c for s in reading.sentences for c in s.cues])
    text_label = label_for(text_score)
    highlight = _highlight(reading) if text_label != NEGATIVE else ""
    label, by = _label_with_stars(text_score, rating)
    return SentimentResult(text_score, label, highlight, _reason(reading, label, by, rating), cues)


def analyse(text: str, *, rating: int | None = None) -> SentimentResult:
    """Read the text and judge it, with the customer's star rating as evidence when there is one."""
    return judge(read(text), rating)


def _stars_label(rating: int) -> str:
    return POSITIVE if rating >= 4 else NEGATIVE if rating <= 2 else NEUTRAL


def _label_with_stars(score: float, rating: int | None) -> tuple[str, str]:
    """(label, what decided it: "text", "stars" or "both")."""
    text_label = label_for(score)
    if rating is None or not 1 <= rating <= 5:
        return text_label, "text"
    stars = _stars_label(rating)
    if stars == NEUTRAL:
        return (text_label, "text") if abs(score) >= THREE_STARS_NEED else (NEUTRAL, "stars")
    clear_against = score <= -TEXT_OVERRIDES if stars == POSITIVE else score >= TEXT_OVERRIDES
    if clear_against:
        return text_label, "text"
    return stars, "both" if text_label == stars else "stars"


def _unscored(reading: Reading, rating: int | None) -> SentimentResult:
    if reading.language:
        name = language_name(reading.language)
        reason = f"Not scored: written in {name}, and Vouch reads feelings in English only."
    elif not reading.sentences:
        reason = "Not scored: there is no text to read."
    else:
        reason = "Not scored: the text is not in English, and Vouch reads feelings in English only."
    return SentimentResult(None, UNSCORED, "", reason)


def _quote(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return f"\u201c{text if len(text) <= limit else text[: limit - 1].rstrip() + chr(0x2026)}\u201d"


def _reason(reading: Reading, label: str, by: str, rating: int | None) -> str:
    """One sentence: what decided the label, the words that carry it, and what the stars say."""
    felt = reading.felt
    score = reading.score or 0.0
    stars = f"{rating} star{'s' if rating != 1 else ''}" if rating else ""
    if felt:
        # The sentence that moved the score most, and the rule that read it, if one did.
        key = max(felt, key=lambda s: abs(s.score) * s.weight * (1 if (s.score > 0) == (score > 0) else 0.2))
        cue = next((c for c in key.cues if (c.valence > 0) == (key.score > 0) and c.valence), None)
        kind = f"{lexicon.CUE_KINDS[cue.kind]}, " if cue else ""
        evidence = f"{kind}{_quote(key.text)}"
    else:
        evidence = "no feeling in the words, only facts"
    if any(c.kind == "sarcasm" for s in felt for c in s.cues) and label == NEGATIVE:
        evidence = "sarcasm, " + evidence.removeprefix("sarcasm, ")
    name = label.capitalize()
    if by == "text" and not stars:
        return f"{name} by the text ({score:+.2f}): {evidence}."
    if by == "text":
        against = _stars_label(rating) != label
        tail = f"although rated {stars}: a person should check" if against else f"{stars}"
        return f"{name} by the text ({score:+.2f}): {evidence}; {tail}."
    if by == "both":
        return f"{name}: {evidence} ({score:+.2f}); {stars} agree."
    return f"{name} by the {stars}: the text alone reads {label_for(score)} ({score:+.2f}): {evidence}."


# --------------------------------------------------------------------------- the highlight


def _highlight(reading: Reading) -> str:
    candidates = highlight_candidates_of(reading)
    return candidates[0] if candidates else ""


def highlight_candidates(text: str, limit: int = 5) -> list[str]:
    """Quotable sentences or phrases, best first: what a person may choose from as the highlight."""
    return highlight_candidates_of(read(text))[:limit]


def highlight_candidates_of(reading: Reading) -> list[str]:
    """Clearly positive sentences (or their best clause when too long), concrete outcomes before generic praise."""
    found: list[tuple[ScoredSentence, str]] = []
    for sentence in reading.sentences:
        if sentence.score < HIGHLIGHT_MIN_SCORE or sentence.text.rstrip().endswith("?"):
            continue
        if len(sentence.text) <= HIGHLIGHT_MAX_CHARS:
            found.append((sentence, _tidy(sentence.text)))
        else:
            found.extend((clause, _tidy(clause.text)) for clause in _clauses(sentence.text))
    found = [
        (s, text) for s, text in found if len(text.split()) >= HIGHLIGHT_MIN_WORDS and len(text) <= HIGHLIGHT_MAX_CHARS
    ]
    if len(found) > 1:
        # Concrete first (an outcome, a number, words beyond praise); then most positive; among near-ties, shorter.
        found.sort(key=lambda c: (-min(c[0].concrete, 3), -round(c[0].score, 1), len(c[1])))
    seen: set[str] = set()
    return [text for _, text in found if not (text in seen or seen.add(text))]


def _clauses(sentence: str) -> list[ScoredSentence]:
    parts = [p for p in _CLAUSE_BREAK.split(sentence) if p.strip()]
    found = []
    for index, part in enumerate(parts):
        following = parts[index + 1] if index + 1 < len(parts) else ""
        if _CONTRAST.match(following.strip()):
            continue
        compound, cues = score_sentence(part)
        if compound >= HIGHLIGHT_MIN_SCORE:
            found.append(ScoredSentence(part, compound, 1.0, cues))
    return found


def _tidy(phrase: str) -> str:
    phrase = _LEADING_CONNECTOR.sub("", phrase.strip()).strip(" ,;:-")
    if phrase and phrase[0].islower():
        phrase = phrase[0].upper() + phrase[1:]
    return phrase
