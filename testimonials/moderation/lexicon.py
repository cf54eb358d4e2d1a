"""The review vocabulary behind sentiment and topics, read once per process from the data files beside it.

- `review_words.tsv`: single words and their valence, added to VADER's lexicon.
- `review_phrases.txt`: phrases VADER misreads word by word, each with a valence and a kind.
- `review_outcomes.txt`: measures that are good or bad to see move, and the words that move them.
- `topics.tsv`: the built-in topics and their terms (`topics.py` reads it).

Phrases are written in a small pattern language, not as regular expressions, so that whatever a
phrase says, its compiled pattern only ever has bounded repetition: matching stays linear in the
length of the sentence (no catastrophic backtracking on hostile text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).parent
WORDS_FILE = HERE / "review_words.tsv"
PHRASES_FILE = HERE / "review_phrases.txt"
OUTCOMES_FILE = HERE / "review_outcomes.txt"
TOPICS_FILE = HERE / "topics.tsv"

# What the kinds of cue are called in an explanation ("an outcome: ...").
CUE_KINDS = {
    "praise": "praise",
    "complaint": "a complaint",
    "outcome": "an outcome",
    "relief": "a problem solved",
    "loyalty": "coming back or not",
    "sarcasm": "sarcasm",
    "fact": "a plain fact",
    "contrast": "a contrast",
}
NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|"
    "ninety|a hundred|a couple of|a few|several"
)
# Between the words of a phrase: spaces, or a comma, colon or exclamation mark with spaces.
_GAP = r"[\s,;:!]+"
_ANY_WORDS = r"(?:[^\s]+[\s,;:!]+){0,3}"  # "~": up to three other words, bounded
_NUMBER = rf"(?:\d[\d.,]*%?|{NUMBER_WORDS})"
_QUOTE = "['\u2018\u2019\"\u201c\u201d]"


class PhraseError(ValueError):
    """A phrase that the pattern language cannot read (a data file error, raised at load time)."""


@dataclass(frozen=True)
class Phrase:
    pattern: str  # as written in the data file
    valence: float
    kind: str


def _split_top(text: str, separator: str) -> list[str]:
    """Split on `separator` outside parentheses."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise PhraseError(f"unbalanced ')' in {text!r}")
        if ch == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth:
        raise PhraseError(f"unbalanced '(' in {text!r}")
    parts.append("".join(current))
    return parts


def _token(token: str) -> str:
    if token == "~":
        raise PhraseError("'~' is handled between words")
    if token == "#":
        return _NUMBER
    if token == "<q>":
        return _QUOTE
    if token.startswith("(") and token.endswith(")"):
        return "(?:" + "|".join(compile_phrase(alt, anchored=False) for alt in _split_top(token[1:-1], "|")) + ")"
    if "(" in token or ")" in token or "|" in token:
        raise PhraseError(f"a group must stand alone: {token!r}")
    if token.endswith("*"):
        return re.escape(token[:-1]) + r"\w*"
    return re.escape(token)


def compile_phrase(phrase: str, *, anchored: bool = True) -> str:
    """A regular expression for one phrase of the pattern language (see review_phrases.txt)."""
    phrase = phrase.strip()
    if not phrase:
        raise PhraseError("empty phrase")
    start = ""
    if phrase.startswith("^"):
        start, phrase = r"^[\s'\"(\u2018\u201c]*", phrase[1:].strip()
    tokens = [t for t in _split_top(phrase, " ") if t]
    out: list[str] = []
    gap, started = _GAP, False  # started: a required word is in; until then optional words carry their gap
    for index, token in enumerate(tokens):
        if token == "~":
            gap = _GAP + _ANY_WORDS if started else _ANY_WORDS
            continue
        optional = token.endswith(")?")
        body = _token(token[:-1] if optional else token)
        if optional and not started:
            out.append(f"(?:{body}{_GAP})?" if index < len(tokens) - 1 else f"(?:{body})?")
        elif optional:
            out.append(f"(?:{gap}{body})?")
        else:
            out.append((gap if started else "") + body)
            started = True
        gap = _GAP
    if not started:
        raise PhraseError(f"no required words in {phrase!r}")
    expression = "".join(out)
    if not anchored:
        return expression
    # Word boundaries, unless the phrase starts or ends with punctuation (a quote mark).
    left = "" if start else r"(?<![\w'])"
    right = "" if tokens[-1] == "<q>" else r"(?![\w'])"
    return f"{start}{left}(?:{expression}){right}"


def _data_lines(path: Path) -> list[list[str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


@lru_cache(maxsize=1)
def review_words() -> dict[str, float]:
    return {word.lower(): float(valence) for word, valence in _data_lines(WORDS_FILE)}


@lru_cache(maxsize=1)
def review_phrases() -> tuple[Phrase, ...]:
    phrases = []
    for number, row in enumerate(_data_lines(PHRASES_FILE), start=1):
        if len(row) != 3 or row[1] not in CUE_KINDS:
            raise PhraseError(f"{PHRASES_FILE.name} entry {number}: want 'valence<TAB>kind<TAB>phrase', got {row!r}")
        compile_phrase(row[2])  # fail at load time, naming the entry
        phrases.append(Phrase(row[2], float(row[0]), row[1]))
    return tuple(phrases)


@lru_cache(maxsize=1)
def outcome_words() -> dict[str, list[str]]:
    """The outcome lists as written: {"good": [...], "bad": [...], "up": [...], "down": [...]}."""
    found: dict[str, list[str]] = {"good": [], "bad": [], "up": [], "down": []}
    for line in OUTCOMES_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, words = line.partition(":")
        if key.strip() not in found:
            raise PhraseError(f"{OUTCOMES_FILE.name}: unknown list {key!r}")
        found[key.strip()].extend(words.split())
    return found


@lru_cache(maxsize=1)
def builtin_topics() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(code, label, terms) of every built-in topic, in file order."""
    topics = []
    for row in _data_lines(TOPICS_FILE):
        if len(row) != 3:
            raise PhraseError(f"{TOPICS_FILE.name}: want 'code<TAB>label<TAB>terms', got {row!r}")
        code, label, terms = row
        topics.append((code, label, tuple(t.strip() for t in terms.split(",") if t.strip())))
    return tuple(topics)


_DOUBLE_KEPT = frozenset("lsz")


@lru_cache(maxsize=50_000)
def base_form(word: str) -> str:
    """A word without its inflection, for matching: answered, answers, answering -> answer; deliveries ->
    delivery; stopped -> stop; prices, priced, pricing -> pric. Only endings are removed (not "-ive" or
    "-ness"), so "supportive" never matches "support". Applied alike to vocabularies and to text."""
    w = word.lower().replace("\u2019", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'")
    if len(w) > 3:
        if w.endswith(("ies", "ied")) and len(w) > 4:
            w = w[:-3] + "y"
        elif w.endswith(("sses", "shes", "ches", "xes", "zzes")):
            w = w[:-2]
        elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
            w = w[:-1]
        elif w.endswith("ing") and _has_vowel(w[:-3]) and len(w) > 4:
            w = _undouble(w[:-3])
        elif w.endswith("ed") and not w.endswith("eed") and _has_vowel(w[:-2]) and len(w) > 4:
            w = _undouble(w[:-2])
    if w.endswith("e") and len(w) >= 3:
        w = w[:-1]
    return w


def _has_vowel(stem: str) -> bool:
    return any(ch in "aeiouy" for ch in stem)


def _undouble(stem: str) -> str:
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in _DOUBLE_KEPT and stem[-1].isalpha():
        return stem[:-1]
    return stem
