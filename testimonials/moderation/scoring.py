"""One sentence, scored: VADER with the review rules around it (the sentiment module weighs sentences).

Before VADER sees a sentence:
- short quoted words ("'premium quality'") are blanked: they are someone else's words;
- each review phrase (`review_phrases.txt`) becomes one token carrying its valence;
- an outcome (a known measure moved by a direction word nearby) becomes a token, and the measure's
  own word ("pain", "errors") is blanked so it does not pull the other way;
- emoji get VADER's descriptions, or Vouch's valence for those VADER lacks.

VADER then scores the words as it always does (negation, boosters, "but", capitals, punctuation),
with one difference: a phrase token is taken as it is, since "no answers" already holds its own "no".
The per-word valences are kept, so a clause's score is a slice of the sentence's (topics use it),
without running VADER again.

Cost: every pattern here runs on one bounded sentence (see sentiment.sentences), is tried only where
the sentence has one of its first words, and has bounded repetition (lexicon.compile_phrase).
"""

from __future__ import annotations

import re
import string
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
    normalize,
)

from testimonials.moderation import lexicon

# Outcome tokens ("went up" with a good measure): valence on VADER's -4..4 scale.
OUTCOME_VALENCE = 2.4
OUTCOME_WINDOW = 4
SARCASM_VALENCE = -2.2
WORD_EDGES = "\"'()[]{}<>.,;:?!\u2026*"

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
SARCASM_TOKEN = "vouchsarcasm"
_SELF_CONTAINED = ("vouchphrase", SARCASM_TOKEN)
_CURLY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_QUOTED = re.compile(r"(?<![\w'])(['\"])([^'\"\n\x00]{1,60}?)\1(?![\w'])")
_SEPARATOR = f" {lexicon.SEPARATOR} "
_OPENING_QUOTES = (" '", ' "', "('", '("', "\x00'", '\x00"', "\n'", '\n"')
_LETTERS = re.compile(r"[^\W\d_]")
_TOKEN = re.compile(r"[\w'-]+")
_ASCII_TOKEN = re.compile(r"[a-z0-9_'-]+")  # _TOKEN for lower-case ASCII text, twice as fast
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


class Cue(NamedTuple):
    """Something in a sentence a rule recognised: what kind it is, the words, and the feeling it carries."""

    kind: str  # a key of lexicon.CUE_KINDS
    words: str
    valence: float
    topic: str = ""  # the built-in topic the cue is about, if known ("never arrived": delivery)


class SentenceScore(NamedTuple):
    score: float  # VADER's compound, -1..1
    cues: list[Cue]
    words: list[str]  # what VADER scored, one per whitespace-separated word, with punctuation (not to be changed)
    valences: list[float]  # VADER's valence of each word, after its "but" rule (not to be changed)


@dataclass(frozen=True)
class _Rules:
    phrases: tuple[re.Pattern, ...]  # one per phrase, in file order (the first that matches wins)
    anchored: tuple[bool, ...]  # the phrase must open the sentence ("^ oh sure ...")
    leads: tuple[tuple[str, ...], ...]  # each phrase's literal openings ("not worth"), () when it has none
    by_first_word: dict[str, tuple[int, ...]]  # the phrases an opening word may start, in file order
    by_prefix: tuple[tuple[str, int], ...]  # phrases starting with "word*" (or a number)
    anywhere: tuple[int, ...]  # phrases starting with "~": tried at every word
    openers: frozenset[str]  # every word a phrase may open with
    prefixed: re.Pattern | None  # finds, in lower-case text, words starting with a phrase's prefix ("justif", digits)
    may_be_prefixed: re.Pattern  # a quick test for any of those prefixes at all (no word boundaries)
    phrase_of: tuple[lexicon.Phrase, ...]
    directions: frozenset[str]  # a quick test: could this sentence hold an outcome at all?
    outcome_forms: frozenset[str]  # every written form of a measure or direction word (the others are skipped)
    good: frozenset[str]
    bad: frozenset[str]
    up: frozenset[str]
    down: frozenset[str]
    price: frozenset[str]  # measures whose move is about price, not results ("doubled the price")


_NEGATE = frozenset(NEGATE)
_PUNCTUATION = string.punctuation


def _negated(word: str) -> bool:
    """vaderSentiment's negated([word]) for one lower-case word, without rebuilding its word list."""
    return word in _NEGATE or "n't" in word


class _Words(list):
    """A sentence's words as VADER keeps them, with their lower-case forms computed once.

    VADER's negation and idiom checks rebuild the lower-cased word list for every sentiment word (three
    times each), which is most of its cost and why it grows faster than the length of the text."""

    lower: list[str]


class _SentiText:
    """What VADER's scoring reads of its SentiText (words, and whether only some are in capitals), built
    with the same rules at C speed: SentiText strips each word with a Python call."""

    __slots__ = ("is_cap_diff", "text", "words_and_emoticons", "written")

    def __init__(self, text: str) -> None:
        self.text = text
        self.written = text.split()  # with their punctuation (a clause ends at a comma)
        words = _Words([w if len(s := w.strip(_PUNCTUATION)) <= 2 else s for w in self.written])
        words.lower = [w.lower() for w in words]
        self.words_and_emoticons = words
        capitals = sum(map(str.isupper, words))
        self.is_cap_diff = 0 < len(words) - capitals < len(words)


class _Analyzer(SentimentIntensityAnalyzer):
    """VADER with the review lexicon, a table for emoji (VADER walks the text a character at a time),
    the per-word valences kept, and its negation and idiom checks reading lower-case words computed
    once per sentence. Scores are VADER's own (a test compares them with vaderSentiment's)."""

    def __init__(self) -> None:
        super().__init__()
        self.lexicon.update(lexicon.review_words())
        rules = _rules()
        self.lexicon.update({f"vouchphrase{i}": phrase.valence for i, phrase in enumerate(rules.phrase_of)})
        self.lexicon.update({f"vouchemoji{i}": valence for i, valence in enumerate(EMOJI_VALENCE.values())})
        self.lexicon.update({_UP_TOKEN: OUTCOME_VALENCE, _DOWN_TOKEN: -OUTCOME_VALENCE})
        self.lexicon[SARCASM_TOKEN] = SARCASM_VALENCE
        # VADER puts a space before a description, none after: the same words result.
        table = {emoji: f" {description}" for emoji, description in self.emojis.items() if len(emoji) == 1}
        table.update({emoji: f" vouchemoji{i} " for i, emoji in enumerate(EMOJI_VALENCE)})
        self.emoji_table = str.maketrans(table)

    def score(self, text: str) -> tuple[float, list[str], list[float]]:
        """(compound, words, valences): what polarity_scores computes, its parts kept. `words` are as
        written, punctuation included, one per valence."""
        text = (text if text.isascii() else text.translate(self.emoji_table)).strip()  # ASCII holds no emoji
        sentitext = _SentiText(text)
        words = sentitext.words_and_emoticons
        lowers = words.lower
        lexicon_words = self.lexicon
        # A word outside the lexicon gets 0 from sentiment_valence: only lexicon words are looked at.
        valences: list[float] = [0] * len(words)
        for i in [i for i, lower in enumerate(lowers) if lower in lexicon_words]:
            lower = lowers[i]
            if lower.startswith(_SELF_CONTAINED):
                valences[i] = lexicon_words[lower]
            elif lower in BOOSTER_DICT or (lower == "kind" and i < len(words) - 1 and lowers[i + 1] == "of"):
                continue
            else:
                valences[i] = self.sentiment_valence(0, sentitext, words[i], i, [])[0]
        if "but" in lowers:
            valences = self._but_check(words, valences)
        return self.compound(valences, text), sentitext.written, valences

    @staticmethod
    def _lower(words) -> list[str]:
        lower = getattr(words, "lower", None)
        return lower if isinstance(lower, list) else [str(w).lower() for w in words]

    def _negation_check(self, valence, words_and_emoticons, start_i, i):
        """vaderSentiment's _negation_check, reading the sentence's lower-case words computed once."""
        w = self._lower(words_and_emoticons)
        if start_i == 0:
            if _negated(w[i - 1]):
                valence = valence * N_SCALAR
        if start_i == 1:
            if w[i - 2] == "never" and (w[i - 1] == "so" or w[i - 1] == "this"):
                valence = valence * 1.25
            elif w[i - 2] == "without" and w[i - 1] == "doubt":
                pass
            elif _negated(w[i - 2]):
                valence = valence * N_SCALAR
        if start_i == 2:
            if (w[i - 3] == "never" and w[i - 2] in ("so", "this")) or w[i - 1] in ("so", "this"):
                valence = valence * 1.25
            elif w[i - 3] == "without" and (w[i - 2] == "doubt" or w[i - 1] == "doubt"):
                pass
            elif _negated(w[i - 3]):
                valence = valence * N_SCALAR
        return valence

    def _special_idioms_check(self, valence, words_and_emoticons, i):
        """vaderSentiment's _special_idioms_check, reading the sentence's lower-case words computed once."""
        w = self._lower(words_and_emoticons)
        onezero = f"{w[i - 1]} {w[i]}"
        twoonezero = f"{w[i - 2]} {w[i - 1]} {w[i]}"
        twoone = f"{w[i - 2]} {w[i - 1]}"
        threetwoone = f"{w[i - 3]} {w[i - 2]} {w[i - 1]}"
        threetwo = f"{w[i - 3]} {w[i - 2]}"
        for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
            if seq in SPECIAL_CASES:
                valence = SPECIAL_CASES[seq]
                break
        if len(w) - 1 > i:
            zeroone = f"{w[i]} {w[i + 1]}"
            if zeroone in SPECIAL_CASES:
                valence = SPECIAL_CASES[zeroone]
        if len(w) - 1 > i + 1:
            zeroonetwo = f"{w[i]} {w[i + 1]} {w[i + 2]}"
            if zeroonetwo in SPECIAL_CASES:
                valence = SPECIAL_CASES[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in BOOSTER_DICT:
                valence = valence + BOOSTER_DICT[n_gram]
        return valence

    def compound(self, valences, text: str) -> float:
        """VADER's compound score of these valences, with the punctuation emphasis of `text`."""
        if not valences:
            return 0.0
        total = float(sum(valences))
        emphasis = self._punctuation_emphasis(text)
        if total > 0:
            total += emphasis
        elif total < 0:
            total -= emphasis
        return round(normalize(total), 4)


@lru_cache(maxsize=1)
def _analyzer() -> _Analyzer:
    # Building one costs ~6 ms (it parses its lexicon files): one per process, never per call.
    return _Analyzer()


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    phrases = lexicon.review_phrases()
    by_first_word: dict[str, list[int]] = {}
    by_prefix, anywhere = [], []
    leads = []
    for index, phrase in enumerate(phrases):
        first, prefixes, other = lexicon.first_words(phrase.pattern)
        for word in {lead.split(" ")[0] for lead in first}:
            by_first_word.setdefault(word, []).append(index)
        # A phrase with openings of several literal words is only tried where one is written out.
        several = not prefixes and not other and any(" " in lead for lead in first)
        leads.append(tuple(sorted(first)) if several else ())
        by_prefix.extend((prefix, index) for prefix in prefixes)
        if other:
            anywhere.append(index)
    words = lexicon.outcome_words()
    base = lexicon.base_form
    # Every written form of a direction word ("increase", "increased", "increasing"): the quick test must
    # not miss one that _mark_outcomes, reading base forms, would take.
    directions = {form for w in words["up"] + words["down"] for form in lexicon.written_forms(base(w.lower()))}
    return _Rules(
        # Matched against the lower-cased sentence: no IGNORECASE, which doubles the cost of a scan.
        phrases=tuple(re.compile(lexicon.compile_phrase(p.pattern.lower())) for p in phrases),
        anchored=tuple(p.pattern.lstrip().startswith("^") for p in phrases),
        leads=tuple(leads),
        by_first_word={word: tuple(found) for word, found in by_first_word.items()},
        by_prefix=tuple(by_prefix),
        anywhere=tuple(anywhere),
        phrase_of=phrases,
        openers=frozenset(by_first_word),
        prefixed=re.compile(
            r"(?<![\w'-])(?:"
            + "|".join(re.escape(prefix) for prefix in sorted({pre for pre, _ in by_prefix}))
            + r")[\w'-]*"
        )
        if by_prefix
        else None,
        may_be_prefixed=re.compile("|".join(re.escape(pre) for pre in sorted({pre for pre, _ in by_prefix})) or "(?!)"),
        directions=frozenset(directions),
        outcome_forms=frozenset(
            {form for w in words["good"] + words["bad"] for form in lexicon.written_forms(base(w.lower()))}
            | directions
            | {"vouchup", "vouchdown"}
        ),
        good=frozenset(base(w) for w in words["good"]),
        bad=frozenset(base(w) for w in words["bad"]),
        up=frozenset(base(w) for w in words["up"]),
        down=frozenset(base(w) for w in words["down"]),
        price=frozenset(base(w) for w in words["price"]),
    )


def _neutralise_quotes(sentence: str) -> str:
    """Short quoted words are someone else's ("'premium quality'", "'resolved'"): they carry no feeling."""

    def blank(match: re.Match) -> str:
        inner = match.group(2)
        if len(inner.split()) > 4:
            return match.group(0)  # a real quotation, the customer's to repeat
        # Letters become "q" (no word VADER knows), keeping the length: positions stay shared with the text.
        return match.group(1) + _LETTERS.sub("q", inner) + match.group(1)

    # Only an opening quote (at the start, or after a space, a bracket or a separator) can start one;
    # the apostrophes of "it's" cannot: checking for one costs a substring search, not a regex scan.
    if "'" not in sentence and '"' not in sentence:
        return sentence
    if sentence.startswith(("'", '"')) or any(opening in sentence for opening in _OPENING_QUOTES):
        return _QUOTED.sub(blank, sentence)
    return sentence


@lru_cache(maxsize=4096)
def _phrases_starting(word: str) -> tuple[int, ...]:
    """The phrases that may open with this (lower-case) word, in file order."""
    rules = _rules()
    found = set(rules.by_first_word.get(word, ()))
    found.update(index for prefix, index in rules.by_prefix if word.startswith(prefix))
    found.update(rules.anywhere)
    return tuple(sorted(found))


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_'-"


def _replace_phrases(
    text: str, lower: str, tokens: list[str], bounds: list[int], rules: _Rules, cues: list[tuple[int, Cue]]
) -> str:
    """Each review phrase, leftmost first (the first in file order where several open at one word),
    replaced by its token; each cue recorded with its position in `lower`. A phrase is only tried where
    the text has one of its opening words. `lower` is `text` lower-cased, of the same length (positions
    are shared); `tokens`, its words; `bounds`, where each sentence starts (phrases that must open a
    sentence are tried at its first word only)."""
    starts: list[tuple[int, str]] = []
    for word in rules.openers.intersection(tokens):
        size = len(word)
        at = lower.find(word)
        while at >= 0:  # each whole-word occurrence (str.find, at C speed)
            end = at + size
            if (not at or not _is_word_char(lower[at - 1])) and (end == len(lower) or not _is_word_char(lower[end])):
                starts.append((at, word))
            at = lower.find(word, end)
    if rules.prefixed is not None and rules.may_be_prefixed.search(lower):
        starts.extend((m.start(), m.group(0)) for m in rules.prefixed.finditer(lower))
    if rules.anywhere:
        starts.extend((m.start(), m.group(0)) for m in _TOKEN.finditer(lower))
    if not starts:
        return text
    starts.sort()
    out: list[str] = []
    last = 0
    openings: dict[int, int] | None = None  # first word of a sentence -> where the sentence starts
    for start, word in starts:
        if start < last:
            continue
        for index in _phrases_starting(word):
            anchored = rules.anchored[index]
            if anchored:
                if openings is None:
                    openings = {}
                    for begin in bounds:
                        first = _TOKEN.search(lower, begin)
                        if first:
                            openings.setdefault(first.start(), begin)
                if start not in openings:
                    continue
            lead = rules.leads[index]
            if lead and not lower.startswith(lead, start):
                continue  # its opening words are not there: no need to run its pattern
            match = rules.phrases[index].match(lower, openings[start] if anchored else start)
            if match and match.end() > match.start():
                found = rules.phrase_of[index]
                words = text[match.start() : match.end()].strip(" ,;:!'\"")
                cues.append((match.start(), Cue(found.kind, words, found.valence, found.topic)))
                out.append(text[last : match.start()])
                out.append(f" vouchphrase{index} ")
                last = match.end()
                break
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


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
    candidates = rules.outcome_forms
    bases = [
        lexicon.base_form(stripped) if (stripped := w.strip(WORD_EDGES).lower()) in candidates else "" for w in words
    ]
    directions = [i for i, b in enumerate(bases) if b in rules.up or b in rules.down or b in ("vouchup", "vouchdown")]
    measures = [i for i, b in enumerate(bases) if b in rules.good or b in rules.bad] if directions else []
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
        shown = " ".join(w.strip(WORD_EDGES) for w in words[lo : hi + 1])
        shown = shown.replace("vouchup", "from").replace("vouchdown", "from")
        topic = "price" if bases[m] in rules.price else "results"
        cues.append(Cue("outcome", shown, OUTCOME_VALENCE if good else -OUTCOME_VALENCE, topic))
        words[d] = _UP_TOKEN if good else _DOWN_TOKEN
        # The measure's own word ("pain", "errors") must not pull the other way once its move is read.
        words[m] = "vouchmeasure"
    for i, word in enumerate(words):
        if word.startswith(("vouchup", "vouchdown")):
            words[i] = "from"  # a from-to that moved nothing known
    return cues


class TextScore(NamedTuple):
    """A text's sentences, scored, and what the rules read of the text as a whole (topics reuse it)."""

    sentences: list[SentenceScore]
    lower: str  # the sentences joined by a separator no term or phrase spans, lower-cased
    tokens: list[str]  # the words of `lower` (letters, digits, apostrophes and hyphens)
    bounds: list[int]  # where each sentence starts in `lower`


def score_text(sentences: list[str]) -> TextScore:
    """VADER's compound for each bounded sentence of a text after the review rules, the cues they found,
    and the per-word valences (one per whitespace-separated word of the sentence as VADER saw it).

    The rules run once over the sentences joined by a separator no phrase can cross, which costs less
    than a pass per sentence; VADER then scores each sentence alone.
    """
    if not sentences:
        return TextScore([], "", [], [])
    rules = _rules()
    joined = _SEPARATOR.join(sentences)
    if joined.count(lexicon.SEPARATOR) != len(sentences) - 1:  # a sentence held the separator itself
        joined = _SEPARATOR.join(s.replace(lexicon.SEPARATOR, " ") for s in sentences)
    text = joined if joined.isascii() else joined.translate(_CURLY)
    text = _neutralise_quotes(text)
    lower = text.lower()
    if len(lower) != len(text):  # a rare letter whose lower case is longer ("İ"): score each sentence alone
        return _score_apart(sentences)
    # Where each sentence starts in `lower` (their lengths are known: no search).
    bounds, at = [], 0
    for sentence in sentences:
        bounds.append(at)
        at += len(sentence) + len(_SEPARATOR)
    tokens = (_ASCII_TOKEN if lower.isascii() else _TOKEN).findall(lower)
    found: list[tuple[int, Cue]] = []
    text = _replace_phrases(text, lower, tokens, bounds, rules, found)
    cues: list[list[Cue]] = [[] for _ in sentences]
    for position, cue in found:
        cues[bisect_right(bounds, position) - 1].append(cue)
    # A from-to or a direction word anywhere? Only then is each sentence looked at for an outcome.
    outcomes = not rules.directions.isdisjoint(tokens)
    from_to = " from " in lower and " to " in lower
    pieces = text.split(lexicon.SEPARATOR) if len(sentences) > 1 else [text]
    if len(pieces) != len(sentences):  # cannot happen (phrases never cross it); stay correct if it did
        return _score_apart(sentences)
    scored = []
    analyzer = _analyzer()
    for piece, mine in zip(pieces, cues, strict=True):
        if outcomes or from_to:
            piece_lower = piece.lower()
            moved = from_to and " from " in piece_lower and " to " in piece_lower
            if moved or (outcomes and not rules.directions.isdisjoint(_TOKEN.findall(piece_lower))):
                if moved:
                    piece = _mark_from_to(piece)
                words = piece.split()
                mine += _mark_outcomes(words, rules)
                piece = " ".join(words)
        score, words, valences = analyzer.score(piece)
        scored.append(SentenceScore(score, mine, words, valences))
    return TextScore(scored, lower, tokens, bounds)


def _score_apart(sentences: list[str]) -> TextScore:
    """Each sentence on its own (a rare text whose lower case changes length), joined for topics after."""
    parts = [score_text([s]) if len(s.lower()) == len(s) else _score_lowered(s) for s in sentences]
    lower = _SEPARATOR.join(part.lower for part in parts)
    bounds, at = [], 0
    for part in parts:
        bounds.append(at)
        at += len(part.lower) + len(_SEPARATOR)
    return TextScore([part.sentences[0] for part in parts], lower, _TOKEN.findall(lower), bounds)


def _score_lowered(sentence: str) -> TextScore:
    return score_text([sentence.lower()])


def score_sentence(sentence: str) -> SentenceScore:
    """One sentence, scored alone."""
    return score_text([sentence]).sentences[0]


def compound(valences, text: str) -> float:
    """VADER's compound of a slice of a sentence's valences (a clause), with `text`'s punctuation."""
    return _analyzer().compound(list(valences), text)
