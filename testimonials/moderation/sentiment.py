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
from dataclasses import dataclass, field
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from testimonials.moderation import lexicon
from testimonials.moderation.language import detect_language, language_name

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
# Outcome tokens ("went up" with a good measure): valence on VADER's -4..4 scale.
OUTCOME_VALENCE = 2.4
OUTCOME_WINDOW = 4
# Sentence weights for contrast and concession.
AFTER_CONTRAST = 1.6
BEFORE_CONTRAST = 0.6
CONCESSION = 0.5
SUBORDINATE = 0.3
SARCASM_VALENCE = -2.2

_CONTRAST_OPENERS = re.compile(
    r"^(?:but|however|though|still|yet|unfortunately|sadly|that said|except|having said that|then again)\b",
    re.IGNORECASE,
)
_TRAILING_CONCESSION = re.compile(r",?\s+(?:though|tho|however|but still)[.!]*$", re.IGNORECASE)
_SUBORDINATE_OPENERS = re.compile(r"^(?:although|though|even though|despite|while|whilst|even if)\b", re.IGNORECASE)
# A short sentence made only of these is an interjection: after a complaint, "Brilliant." is sarcasm.
_INTERJECTIONS = frozenset(
    "oh great just brilliant lovely perfect fantastic wonderful awesome nice wow amazing superb marvellous "
    "marvelous cheers thanks thank you so really well yay splendid terrific".split()
)
_QUOTED = re.compile(r"(?<![\w'])(['\"])([^'\"\n]{1,60}?)\1(?![\w'])")
_FROM_TO = re.compile(
    r"\bfrom\s+[$\u00a3\u20ac]?(\d[\d,.]*)\s*(%|k)?(?:\s+\S+){0,4}?\s+to\s+(?:over\s+|about\s+|around\s+|nearly\s+|"
    r"almost\s+|just\s+|under\s+)?[$\u00a3\u20ac]?(\d[\d,.]*)\s*(%|k)?",
    re.IGNORECASE,
)
_NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split()
    )
}
_FROM_TO_WORDS = re.compile(
    r"\bfrom\s+(" + "|".join(_NUMBER_WORDS) + r")\s+\S+(?:\s+\S+){0,2}?\s+to\s+(" + "|".join(_NUMBER_WORDS) + r")\b",
    re.IGNORECASE,
)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?\u2026])\s+|\n+")
_CLAUSE_BREAK = re.compile(r"\s*[,;:\u2013\u2014]\s+|\s+-\s+")
# A clause followed by one of these is not quoted alone: "Great design, but it broke" is not praise.
_CONTRAST = re.compile(r"^(but|however|though|although|except|yet|unfortunately|sadly|shame)\b", re.IGNORECASE)
_LEADING_CONNECTOR = re.compile(r"^(and|but|so|also|plus|yet|then)\s+", re.IGNORECASE)
_CURLY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_WORD_EDGES = "\"'()[]{}<>.,;:?!\u2026*"
_DIGIT = re.compile(r"\d")
_DURATION = re.compile(
    r"\b(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty)\s+"
    r"(?:seconds?|minutes?|mins?|hours?|days?|weeks?|months?|years?)\b",
    re.IGNORECASE,
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


@dataclass(frozen=True)
class Cue:
    """Something in a sentence a rule recognised: what kind it is, the words, and the feeling it carries."""

    kind: str  # a key of lexicon.CUE_KINDS
    words: str
    valence: float


@dataclass(frozen=True)
class ScoredSentence:
    text: str  # as written
    score: float  # VADER's compound, -1..1, after the review rules
    weight: float  # how much it counts in the text's score
    cues: tuple[Cue, ...] = ()

    @property
    def concrete(self) -> int:
        """How concrete it is: an outcome or a solved problem, a number or duration, words beyond praise."""
        points = 2 if any(c.kind in ("outcome", "relief") and c.valence > 0 for c in self.cues) else 0
        if _DIGIT.search(self.text) or _DURATION.search(self.text):
            points += 1
        content = [w for w in (t.strip(_WORD_EDGES).lower() for t in self.text.split()) if w and w not in _GENERIC]
        if len(content) >= 3:
            points += 1
        return points


@dataclass(frozen=True)
class Reading:
    """What the text says, before the stars are considered."""

    language: str  # detect_language(text): "" when unsure
    scored: bool  # False: a language Vouch cannot read, or no text
    sentences: tuple[ScoredSentence, ...] = ()
    score: float | None = None  # the text's own score, -1..1; None when not scored

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


# --------------------------------------------------------------------------- the analyzer


@dataclass(frozen=True)
class _Rules:
    phrases: re.Pattern
    phrase_of: dict[str, lexicon.Phrase]
    emoji: dict
    good: frozenset[str]
    bad: frozenset[str]
    up: frozenset[str]
    down: frozenset[str]


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
    "\U0001f64c": 1.8,  # raising hands
    "\U0001f64f": 1.5,  # folded hands
}
_UP_TOKEN, _DOWN_TOKEN = "vouchoutcomegood", "vouchoutcomebad"
_SARCASM_TOKEN = "vouchsarcasm"
_SELF_CONTAINED = ("vouchphrase", _SARCASM_TOKEN)


class _ReviewAnalyzer(SentimentIntensityAnalyzer):
    """VADER, except that a phrase token is taken as it is: "no answers" already holds its own "no", so
    a "no" just before it ("No maintenance, no answers") must not negate it again."""

    def sentiment_valence(self, valence, sentitext, item, i, sentiments):
        if item.startswith(_SELF_CONTAINED):
            sentiments.append(self.lexicon.get(item, 0.0))
            return sentiments
        return super().sentiment_valence(valence, sentitext, item, i, sentiments)


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    # Building one costs ~6 ms (it parses its lexicon files): one per process, never per call.
    analyzer = _ReviewAnalyzer()
    analyzer.lexicon.update(lexicon.review_words())
    rules = _rules()
    analyzer.lexicon.update({name: phrase.valence for name, phrase in rules.phrase_of.items()})
    analyzer.lexicon.update({f"vouchemoji{i}": valence for i, valence in enumerate(EMOJI_VALENCE.values())})
    analyzer.lexicon.update({_UP_TOKEN: OUTCOME_VALENCE, _DOWN_TOKEN: -OUTCOME_VALENCE})
    analyzer.lexicon[_SARCASM_TOKEN] = SARCASM_VALENCE
    return analyzer


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    phrases = lexicon.review_phrases()
    names = {f"vouchphrase{i}": phrase for i, phrase in enumerate(phrases)}
    pattern = "|".join(f"(?P<{name}>{lexicon.compile_phrase(p.pattern)})" for name, p in names.items())
    words = lexicon.outcome_words()
    return _Rules(
        phrases=re.compile(pattern, re.IGNORECASE),
        phrase_of=names,
        emoji=str.maketrans({emoji: f" vouchemoji{i} " for i, emoji in enumerate(EMOJI_VALENCE)}),
        good=frozenset(lexicon.base_form(w) for w in words["good"]),
        bad=frozenset(lexicon.base_form(w) for w in words["bad"]),
        up=frozenset(lexicon.base_form(w) for w in words["up"]),
        down=frozenset(lexicon.base_form(w) for w in words["down"]),
    )


# --------------------------------------------------------------------------- reading the text


def label_for(score: float) -> str:
    if score >= POSITIVE_AT:
        return POSITIVE
    if score <= NEGATIVE_AT:
        return NEGATIVE
    return NEUTRAL


def sentences(text: str) -> list[str]:
    """Split capped text into sentences, cutting long runs into chunks bounded in words and characters."""
    pieces: list[str] = []
    for raw in _SENTENCE_BREAK.split(text[:MAX_TEXT_CHARS]):
        words: list[str] = []
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


def _neutralise_quotes(sentence: str) -> str:
    """Short quoted words are someone else's ("'premium quality'", "'resolved'"): they carry no feeling."""

    def blank(match: re.Match) -> str:
        inner = match.group(2)
        if len(inner.split()) > 4:
            return match.group(0)  # a real quotation, the customer's to repeat
        return f"{match.group(1)}{' '.join('vouchquoted' for _ in inner.split())}{match.group(1)}"

    return _QUOTED.sub(blank, sentence)


def _number(value: str, unit: str | None) -> float | None:
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        return None
    return number * 1000 if unit and unit.lower() == "k" else number


def _mark_from_to(sentence: str) -> str:
    """'went from 40 to 120' moves up, 'from three days to one' down: the word "from" takes the direction."""

    def direction(before: float | None, after: float | None) -> str | None:
        if before is None or after is None or before == after:
            return None
        return "vouchup" if after > before else "vouchdown"

    def numeric(match: re.Match) -> str:
        moved = direction(_number(match.group(1), match.group(2)), _number(match.group(3), match.group(4)))
        return match.group(0) if moved is None else moved + match.group(0)[4:]

    def words(match: re.Match) -> str:
        moved = direction(_NUMBER_WORDS[match.group(1).lower()], _NUMBER_WORDS[match.group(2).lower()])
        return match.group(0) if moved is None else moved + match.group(0)[4:]

    return _FROM_TO_WORDS.sub(words, _FROM_TO.sub(numeric, sentence))


def _mark_outcomes(words: list[str], rules: _Rules) -> list[Cue]:
    """Replace each direction word that moves a known measure (within OUTCOME_WINDOW words) by an outcome token."""
    bases = [lexicon.base_form(w.strip(_WORD_EDGES)) for w in words]
    directions = [i for i, b in enumerate(bases) if b in rules.up or b in rules.down or b in ("vouchup", "vouchdown")]
    if not directions:
        return []
    measures = [i for i, b in enumerate(bases) if b in rules.good or b in rules.bad]
    pairs = []
    for d in directions:
        for m in measures:
            # Phrasal "up"/"down" follow their measure ("revenue went up"); verbs may lead ("doubled our sign-ups").
            if 0 < abs(m - d) <= OUTCOME_WINDOW and not (bases[d] in ("up", "down") and m > d):
                pairs.append((abs(m - d), m, d))
    cues: list[Cue] = []
    used: set[int] = set()
    for _, m, d in sorted(pairs):  # nearest first: "we cut them and revenue went up" binds revenue to "up"
        if m in used or d in used:
            continue
        used.update((m, d))
        rising = bases[d] in rules.up or bases[d] == "vouchup"
        good = (bases[m] in rules.good) == rising
        lo, hi = min(m, d), max(m, d)
        shown = " ".join(w.strip(_WORD_EDGES) for w in words[lo : hi + 1])
        shown = shown.replace("vouchup", "from").replace("vouchdown", "from")
        cues.append(Cue("outcome", shown, OUTCOME_VALENCE if good else -OUTCOME_VALENCE))
        words[d] = _UP_TOKEN if good else _DOWN_TOKEN
        # The measure's own word ("pain", "errors") must not pull the other way once its move is read.
        words[m] = "vouchmeasure"
    for i, word in enumerate(words):
        if word.startswith(("vouchup", "vouchdown")):
            words[i] = "from"  # a from-to that moved nothing known
    return cues


def score_sentence(sentence: str) -> tuple[float, tuple[Cue, ...]]:
    """VADER's compound for one bounded sentence after the review rules, and the cues they found."""
    rules = _rules()
    text = _neutralise_quotes(sentence.translate(_CURLY))
    cues: list[Cue] = []

    def phrase(match: re.Match) -> str:
        found = rules.phrase_of[match.lastgroup]
        cues.append(Cue(found.kind, match.group(0).strip(" ,;:!'\""), found.valence))
        return f" {match.lastgroup} "

    text = rules.phrases.sub(phrase, text)
    words = _mark_from_to(text).split()
    cues += _mark_outcomes(words, rules)
    text = " ".join(words).translate(rules.emoji)
    return _analyzer().polarity_scores(text)["compound"], tuple(cues)


def read(text: str) -> Reading:
    """Score each sentence with the review rules and weigh them into the text's own score."""
    capped = (text or "")[:MAX_TEXT_CHARS]
    language = detect_language(capped)
    parts = sentences(capped)
    if not parts or not is_scoreable(capped, language):
        return Reading(language=language, scored=False)
    scored: list[ScoredSentence] = []
    for index, part in enumerate(parts):
        score, cues = _score_with_concession(part)
        weight = 1.0
        if _TRAILING_CONCESSION.search(part):
            weight = CONCESSION
        scored.append(ScoredSentence(part, score, weight, cues))
        if index and _CONTRAST_OPENERS.match(part):
            before = scored[index - 1]
            scored[index - 1] = ScoredSentence(before.text, before.score, before.weight * BEFORE_CONTRAST, before.cues)
            scored[index] = ScoredSentence(part, score, weight * AFTER_CONTRAST, cues)
    scored = _sarcastic_interjections(scored)
    felt = [s for s in scored if abs(s.score) >= POSITIVE_AT]
    total = sum(s.weight for s in felt)
    score = round(sum(s.score * s.weight for s in felt) / total, 4) if felt else 0.0
    return Reading(language=language, scored=True, sentences=tuple(scored), score=score)


def _score_with_concession(sentence: str) -> tuple[float, tuple[Cue, ...]]:
    """'Although X, Y': Y decides. Otherwise the whole sentence, as VADER weighs "but" itself."""
    if _SUBORDINATE_OPENERS.match(sentence) and "," in sentence:
        conceded, _, main = sentence.partition(",")
        if main.strip():
            first, first_cues = score_sentence(conceded)
            second, second_cues = score_sentence(main)
            return round(SUBORDINATE * first + (1 - SUBORDINATE) * second, 4), first_cues + second_cues
    return score_sentence(sentence)


def _sarcastic_interjections(scored: list[ScoredSentence]) -> list[ScoredSentence]:
    """A lone "Brilliant." or "Great, just great." beside complaints is sarcasm: it counts against."""
    interjections = [
        i
        for i, s in enumerate(scored)
        if s.score > 0
        and len(s.text.split()) <= 4
        and all(w.strip(_WORD_EDGES).lower() in _INTERJECTIONS for w in s.text.split())
    ]
    if not interjections or len(interjections) == len(scored):
        return scored
    rest = [s.score for i, s in enumerate(scored) if i not in interjections and abs(s.score) >= POSITIVE_AT]
    if not rest or sum(rest) / len(rest) > -0.3:
        return scored
    for i in interjections:
        s = scored[i]
        scored[i] = ScoredSentence(s.text, -s.score, s.weight, (*s.cues, Cue("sarcasm", s.text, SARCASM_VALENCE)))
    return scored


# --------------------------------------------------------------------------- judging, with the stars


def judge(reading: Reading, rating: int | None = None) -> SentimentResult:
    """The label a person would give: the text when it is clear, the customer's stars when it is not.

    The highlight never depends on the rating (it is chosen from the text alone).
    """
    if not reading.scored:
        return _unscored(reading, rating)
    text_score = reading.score if reading.score is not None else 0.0
    cues = tuple(c for s in reading.sentences for c in s.cues)
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
    found: list[tuple[int, float, str]] = []
    for sentence in reading.sentences:
        if sentence.score < HIGHLIGHT_MIN_SCORE or sentence.text.rstrip().endswith("?"):
            continue
        if len(sentence.text) <= HIGHLIGHT_MAX_CHARS:
            found.append((sentence.concrete, sentence.score, sentence.text))
        else:
            found.extend(_clauses(sentence.text))
    tidy = [(concrete, score, _tidy(text)) for concrete, score, text in found]
    tidy = [
        (concrete, score, text)
        for concrete, score, text in tidy
        if len(text.split()) >= HIGHLIGHT_MIN_WORDS and len(text) <= HIGHLIGHT_MAX_CHARS
    ]
    # Concrete first (an outcome, a number, words beyond praise); then most positive; among near-ties, shorter.
    tidy.sort(key=lambda c: (-min(c[0], 3), -round(c[1], 1), len(c[2])))
    seen: set[str] = set()
    return [text for _, _, text in tidy if not (text in seen or seen.add(text))]


def _clauses(sentence: str) -> list[tuple[int, float, str]]:
    parts = [p for p in _CLAUSE_BREAK.split(sentence) if p.strip()]
    found = []
    for index, part in enumerate(parts):
        following = parts[index + 1] if index + 1 < len(parts) else ""
        if _CONTRAST.match(following.strip()):
            continue
        compound, cues = score_sentence(part)
        if compound >= HIGHLIGHT_MIN_SCORE:
            found.append((ScoredSentence(part, compound, 1.0, cues).concrete, compound, part))
    return found


def _tidy(phrase: str) -> str:
    phrase = _LEADING_CONNECTOR.sub("", phrase.strip()).strip(" ,;:-")
    if phrase and phrase[0].islower():
        phrase = phrase[0].upper() + phrase[1:]
    return phrase
