"""Topics: what a testimonial talks about (support, speed, price, ... and a brand's own), each with a polarity.

A topic is found by its terms (`topics.tsv` for the built-in ones; a brand adds its own topics, or
more terms for the built-in ones, in the admin). Matching works on base forms (`lexicon.base_form`),
so "answered", "answers" and "answering" all match "answer", and a term of several words matches
those words in a row ("customer service", "flat white"). Results are also found without a term:
a sentence with an outcome or a solved problem ("conversion went up", "my back pain is gone") is
about results.

Polarity is read from the clause a term sits in ("Great coffee, but the staff were rude": coffee
positive, staff negative), falling back to its sentence and then to the whole text when the clause
states a plain fact. It never reads the star rating. Pure: no database, no Django.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from testimonials.moderation import lexicon, scoring, sentiment

RESULTS = "results"
QUOTE_MAX_CHARS = 160
MAX_TERMS_PER_TOPIC = 60
MAX_TERM_WORDS = 5
MAX_TERM_CHARS = 60

# Words as the scoring sees them (scoring._TOKEN): "sign-ups" and "user-friendly" are one word each,
# and so are the terms that name them.
_WORD = re.compile(r"[\w'-]+")
# Words that open a new clause inside a sentence (punctuation does too).
_CLAUSE_WORDS = frozenset({"but", "though", "although", "however", "yet", "whereas", "while", "except"})
_BREAK = re.compile(r"[,;:\u2013\u2014]|\s-\s|\b(?:" + "|".join(sorted(_CLAUSE_WORDS)) + r")\b", re.IGNORECASE)
_AND = re.compile(r"\s(?:and|&)\s", re.IGNORECASE)
_CONTRAST_WORD = re.compile(r"\b(?:" + "|".join(sorted(_CLAUSE_WORDS)) + r")\b", re.IGNORECASE)
_NON_SPACE = re.compile(r"\S+")
# Built-in topics whose terms, right after these words, are the customer's own ("our team", "my support inbox").
_OWN = frozenset({"our", "my", "we", "us"})


@dataclass(frozen=True)
class TopicDef:
    code: str
    label: str
    terms: tuple[str, ...]
    builtin: bool = False
    not_after: frozenset[str] = frozenset()


class Topic(NamedTuple):
    """A topic one testimonial talks about."""

    code: str
    polarity: str  # sentiment.POSITIVE, NEUTRAL or NEGATIVE
    score: float  # -1..1, the mean of its mentions
    quote: str  # the sentence (or clause, when the sentence is long) that says most about it
    terms: tuple[str, ...]  # the words that named it, as written

    def as_dict(self) -> dict:
        return {"code": self.code, "polarity": self.polarity, "quote": self.quote, "terms": list(self.terms)}


def topic_code(name: str) -> str:
    """The code a brand's topic gets from its name: "Latte art" -> "latte_art"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:60]


def clean_terms(raw: Iterable[str]) -> list[str]:
    """A brand's terms as it typed them: trimmed, de-duplicated, bounded; raises ValueError on a bad one."""
    terms: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for term in raw:
        term = " ".join(str(term).split())
        if not term:
            continue
        words = _WORD.findall(term.lower())
        if not words:
            raise ValueError(f"{term!r} has no letters or digits to match.")
        if len(words) > MAX_TERM_WORDS or len(term) > MAX_TERM_CHARS:
            raise ValueError(f"{term!r} is too long: at most {MAX_TERM_WORDS} words and {MAX_TERM_CHARS} characters.")
        key = tuple(lexicon.base_form(w) for w in words)
        if key not in seen:
            seen.add(key)
            terms.append(term)
    if len(terms) > MAX_TERMS_PER_TOPIC:
        raise ValueError(f"At most {MAX_TERMS_PER_TOPIC} terms per topic.")
    return terms


class Vocabulary:
    """Topics and their terms, indexed by the base form of each term's first word."""

    def __init__(self, topics: Sequence[TopicDef]):
        self.topics = {t.code: t for t in topics}
        index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for topic in topics:
            for term in topic.terms:
                bases = tuple(lexicon.base_form(w) for w in _WORD.findall(term.lower()))
                if bases:
                    index.setdefault(bases[0], []).append((bases, topic.code))
        for entries in index.values():
            entries.sort(key=lambda entry: -len(entry[0]))  # longest term first
        self.index = index
        # Every written form a term's first word may take: a sentence with none of them names no topic,
        # and only these words need their base form worked out.
        self.first_forms = frozenset(form for base in index for form in lexicon.written_forms(base))

    def label(self, code: str) -> str:
        topic = self.topics.get(code)
        return topic.label if topic else code.replace("_", " ").capitalize()

    def matches(self, sentence: str) -> list[tuple[str, int, int, str]]:
        """(code, start, end, words as written) of every term in the sentence; longest match wins, no overlaps."""
        lower = sentence.lower()
        if len(lower) != len(sentence):
            sentence = lower  # keep positions shared
        lower = lower.replace("\u2019", "'")
        return [
            (code, start, end, sentence[start:end]) for code, start, end in self.find_in(lower, _WORD.findall(lower))
        ]

    def find_in(self, lower: str, words: Sequence[str]) -> list[tuple[str, int, int]]:
        """(code, start, end) of every term in lower-case text whose words (`_WORD.findall(lower)`) are given."""
        first_forms, index = self.first_forms, self.index
        if first_forms.isdisjoint(words):
            return []
        hits: list[tuple[int, int, str]] = []  # (first word, word count, code)
        taken_until = 0
        for i in [i for i, word in enumerate(words) if word in first_forms]:
            if i < taken_until:
                continue  # inside an earlier match: no overlaps
            for term, code in index.get(lexicon.base_form(words[i]), ()):
                if len(term) > 1 and (
                    i + len(term) > len(words)
                    or any(lexicon.base_form(words[i + k]) != term[k] for k in range(1, len(term)))
                ):
                    continue
                if i and words[i - 1] in self.topics[code].not_after:
                    continue
                hits.append((i, len(term), code))
                taken_until = i + len(term)
                break
        if not hits:
            return []
        # Where the words start: each is the next occurrence of itself (only non-words lie between them).
        starts, position = [], 0
        for word in words[: hits[-1][0] + hits[-1][1]]:
            position = lower.find(word, position)
            starts.append(position)
            position += len(word)
        found = [
            (code, starts[first], starts[first + count - 1] + len(words[first + count - 1]))
            for first, count, code in hits
        ]
        # A term of several words never spans two sentences scored together (lexicon.SEPARATOR between them).
        return [hit for hit in found if lexicon.SEPARATOR not in lower[hit[1] : hit[2]]]


@lru_cache(maxsize=1)
def builtin_topics() -> tuple[TopicDef, ...]:
    return tuple(
        TopicDef(code, label, terms, builtin=True, not_after=_OWN if code in ("staff", "support") else frozenset())
        for code, label, terms in lexicon.builtin_topics()
    )


def builtin_labels() -> dict[str, str]:
    return {t.code: t.label for t in builtin_topics()}


@lru_cache(maxsize=256)
def _vocabulary(extra: tuple[tuple[str, str, tuple[str, ...]], ...]) -> Vocabulary:
    topics = {t.code: t for t in builtin_topics()}
    for code, label, terms in extra:
        if code in topics:  # a brand's terms for a built-in topic extend it
            known = topics[code]
            topics[code] = TopicDef(code, known.label, known.terms + terms, True, known.not_after)
        else:
            topics[code] = TopicDef(code, label, terms)
    return Vocabulary(list(topics.values()))


def vocabulary(extra: Iterable[tuple[str, str, Sequence[str]]] = ()) -> Vocabulary:
    """The built-in topics plus a brand's own (code, label, terms); cached per distinct vocabulary."""
    return _vocabulary(tuple(sorted((code, label, tuple(terms)) for code, label, terms in extra)))


def find(reading: sentiment.Reading, vocab: Vocabulary | None = None) -> list[Topic]:
    """The topics a read text talks about, in the order they first come up. [] when it was not scored."""
    if not reading.scored:
        return []
    vocab = vocab or vocabulary()
    # code -> [(score, quote, words, whether the score is its own clause's rather than borrowed)]
    mentions: dict[str, list[tuple[float, str, str, bool]]] = {}
    # One pass over the whole text (one scan costs less than one per sentence), then each match is
    # handed to its sentence by offset.
    # The scoring's joined, lower-cased text and its words (sentence texts are the same length, in place).
    starts = list(reading.bounds)
    by_sentence: dict[int, list[tuple[str, int, int, str]]] = {}
    for code, start, end in vocab.find_in(reading.lower, reading.tokens):
        index = bisect_right(starts, start) - 1
        offset = starts[index]
        text = reading.sentences[index].text
        by_sentence.setdefault(index, []).append(
            (code, start - offset, end - offset, text[start - offset : end - offset])
        )
    for index, sentence in enumerate(reading.sentences):
        found = by_sentence.get(index, [])
        if not found and not sentence.cues:
            continue
        # Outcomes and solved problems are results; other cues may name their own topic ("never arrived").
        cued = [c for c in sentence.cues if c.valence and (c.topic or c.kind in ("outcome", "relief"))]
        if not found and not cued:
            continue
        scores = _clause_scores(sentence, found)
        for (code, _start, _end, words), (score, quote) in zip(found, scores, strict=True):
            own = abs(score) >= sentiment.POSITIVE_AT  # its clause says something about it
            if not own:
                score = sentence.score if abs(sentence.score) >= sentiment.POSITIVE_AT else (reading.score or 0.0)
            mentions.setdefault(code, []).append((score, quote, words, own))
        named = {code for code, *_ in found}
        for cue in cued:
            code = cue.topic or RESULTS
            if code in named or code not in vocab.topics:
                continue  # its term was found already, with its clause's polarity
            quote = sentence.text if len(sentence.text) <= QUOTE_MAX_CHARS else cue.words
            mentions.setdefault(code, []).append((1.0 if cue.valence > 0 else -1.0, quote, cue.words, True))
    topics = []
    for code, said in mentions.items():
        score = round(sum(m[0] for m in said) / len(said), 4)
        polarity = sentiment.label_for(score)
        agreeing = [m for m in said if sentiment.label_for(m[0]) == polarity] or said
        # The quote says something about the topic itself: its own clause's feeling first, then the strongest.
        quote = max(agreeing, key=lambda m: (m[3], abs(m[0])))[1]
        words = tuple(dict.fromkeys(m[2] for m in said))
        topics.append(Topic(code, polarity, score, quote[:QUOTE_MAX_CHARS], words))
    return topics


def as_stored(found: list[Topic], *, redact: bool = True) -> list[dict]:
    """Topics as Testimonial.topics keeps them: quotes with personal data redacted, like the public text.

    `redact=False` when the text holds no email address or phone number (rules.redact changed nothing):
    redacting costs more than reading the topics.
    """
    if not redact:
        return [topic.as_dict() for topic in found]
    from testimonials.moderation.rules import redact as redacted  # rules imports sentiment, as this module does

    return [{**topic.as_dict(), "quote": redacted(topic.quote)} for topic in found]


def detect(text: str, vocab: Vocabulary | None = None) -> list[Topic]:
    return find(sentiment.read(text), vocab)


def _clause_scores(
    sentence: sentiment.ScoredSentence, found: list[tuple[str, int, int, str]]
) -> list[tuple[float, str]]:
    """For each match: the score of the clause it sits in, and the quote to show for it.

    The clause's score is a slice of the sentence's per-word valences: VADER does not run again.
    """
    text = sentence.text
    quote = text if len(text) <= QUOTE_MAX_CHARS else ""
    with_and = len({code for code, *_ in found}) >= 2
    # One topic in a sentence without a contrast: its clause says what the sentence says.
    if not (with_and or _CONTRAST_WORD.search(text)) or not (_BREAK.search(text) or (with_and and _AND.search(text))):
        return [(sentence.score, quote or text[:QUOTE_MAX_CHARS]) for _ in found]
    written = text.split()
    breaks = _clause_starts(written, with_and=with_and)
    scored_breaks = _clause_starts(sentence.words, with_and=with_and)
    if len(breaks) == 1 or len(breaks) != len(scored_breaks) or len(sentence.words) != len(sentence.valences):
        return [(sentence.score, quote or text[:QUOTE_MAX_CHARS]) for _ in found]
    # Where each written word starts, to find the clause of a match by its character offset.
    offsets = [m.start() for m in _NON_SPACE.finditer(text)]
    out = []
    clause_scores: dict[int, float] = {}
    for _code, start, _end, _words in found:
        clause = bisect_right(breaks, bisect_right(offsets, start) - 1) - 1
        if clause not in clause_scores:
            lo = scored_breaks[clause]
            hi = scored_breaks[clause + 1] if clause + 1 < len(scored_breaks) else len(sentence.words)
            clause_scores[clause] = scoring.compound(sentence.valences[lo:hi], " ".join(sentence.words[lo:hi]))
        w_lo = breaks[clause]
        w_hi = breaks[clause + 1] if clause + 1 < len(breaks) else len(written)
        out.append((clause_scores[clause], quote or " ".join(written[w_lo:w_hi]).strip(" ,;:")[:QUOTE_MAX_CHARS]))
    return out


def _clause_starts(words: Sequence[str], *, with_and: bool) -> list[int]:
    """The index of the first word of each clause: after a word ending in , ; : or a dash, at a contrast
    word ("but", "though"), and at "and" when several topics share the sentence."""
    starts = [0]
    for i, word in enumerate(words):
        if i and (words[i - 1].endswith((",", ";", ":")) or words[i - 1] in ("-", "\u2013", "\u2014")):
            starts.append(i)
        elif i and word.lower() in _CLAUSE_WORDS:
            starts.append(i)
        elif i and with_and and word.lower() in ("and", "&") and i + 1 < len(words):
            starts.append(i + 1)
    return sorted(set(starts))
