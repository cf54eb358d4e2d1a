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
# "~": up to three other words, bounded. Never across SEPARATOR, which stands between the sentences of a
# text scored together (scoring.score_sentences): no gap or word of a phrase matches it.
SEPARATOR = "\x00"
_ANY_WORDS = r"(?:[^\s\x00]+[\s,;:!]+){0,3}"
_NUMBER = rf"(?:\d[\d.,]*%?|{NUMBER_WORDS})"
_QUOTE = "['\u2018\u2019\"\u201c\u201d]"


class PhraseError(ValueError):
    """A phrase that the pattern language cannot read (a data file error, raised at load time)."""


@dataclass(frozen=True)
class Phrase:
    pattern: str  # as written in the data file
    valence: float
    kind: str
    topic: str = ""  # the built-in topic it is about, if any ("never arrived": delivery)


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
        # Opens a sentence: the matcher tries it at a sentence's start only, where quotes may come first.
        start, phrase = r"[\s'\"(\u2018\u201c]*", phrase[1:].strip()
    tokens = [t for t in _split_top(phrase, " ") if t]
    out: list[str] = []
    gap, started = _GAP, False  # started: a required word is in; until then optional words carry their gap
    if tokens and tokens[0] == "~":
        raise PhraseError(f"a phrase opens with a word, not '~': {phrase!r}")
    for index, token in enumerate(tokens):
        if token == "~":
            gap = _GAP + _ANY_WORDS
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
        if len(row) not in (3, 4) or row[1] not in CUE_KINDS:
            raise PhraseError(
                f"{PHRASES_FILE.name} entry {number}: want 'valence<TAB>kind<TAB>phrase[<TAB>topic]', got {row!r}"
            )
        compile_phrase(row[2])  # fail at load time, naming the entry
        phrases.append(Phrase(row[2], float(row[0]), row[1], row[3] if len(row) == 4 else ""))
    return tuple(phrases)


@lru_cache(maxsize=1)
def outcome_words() -> dict[str, list[str]]:
    """The outcome lists as written: {"good": [...], "bad": [...], "up": [...], "down": [...], "price": [...]}."""
    found: dict[str, list[str]] = {"good": [], "bad": [], "up": [], "down": [], "price": []}
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


def first_words(phrase: str) -> tuple[frozenset[str], tuple[str, ...], bool]:
    """Where a phrase can start: (leading texts, word prefixes, anything else), lower-case.

    A leading text is as many literal words as the phrase starts with (up to three: "to die for",
    "had to chase"), so that a phrase opening with a common word ("to", "the") is only tried where
    the whole opening is there. "anything else" is True when it starts with "~", so the matcher tries
    it at every word. Used to try a phrase only where the sentence has one of its openings.
    """
    tokens = [t for t in _split_top(phrase.strip().removeprefix("^").strip(), " ") if t]
    leads = [""]
    for depth, token in enumerate(tokens[:3]):
        alternatives = _literal_alternatives(token)
        if alternatives is None or len(leads) * len(alternatives) > 64:
            break
        leads = [f"{lead} {alt}".strip() for lead in leads for alt in alternatives]
        if depth == 0 and len(tokens) == 1:
            break
    if leads != [""]:
        return frozenset(leads), (), False
    return _first_words(phrase)


def _literal_alternatives(token: str) -> list[str] | None:
    """The texts a token stands for when it is only literal words ("word", "(a b|c)"), else None."""
    if token.endswith(")?") or token in ("~", "#", "<q>") or token.endswith("*"):
        return None
    if token.startswith("("):
        alternatives = _split_top(token[1:-1], "|")
        if any(not alt.strip() or any(ch in alt for ch in "()~#*<|") for alt in alternatives):
            return None
        return [" ".join(alt.lower().split()) for alt in alternatives]
    return [token.lower()]


def _first_words(phrase: str) -> tuple[frozenset[str], tuple[str, ...], bool]:
    """(first words, word prefixes, anything else) of a phrase whose opening is not only literal words."""
    phrase = phrase.strip().removeprefix("^").strip()
    tokens = [t for t in _split_top(phrase, " ") if t]
    words: set[str] = set()
    prefixes: list[str] = []
    other = False
    for token in tokens:
        optional = token.endswith(")?")
        token = token[:-1] if optional else token
        if token == "~":
            other = True  # "~ x": any word may start it
            break
        if token == "#":
            # Number words open it, and digits; not "a" ("a few"), which opens nearly every sentence.
            words.update(w for w in NUMBER_WORDS.split("|") if not w.startswith("a "))
            prefixes.extend("0123456789")
        elif token == "<q>":
            prefixes.extend("'\u2018\u2019\"\u201c\u201d")
        elif token.startswith("("):
            for alternative in _split_top(token[1:-1], "|"):
                w, p, o = _first_words(alternative)
                words |= w
                prefixes.extend(p)
                other = other or o
        elif token.endswith("*"):
            prefixes.append(token[:-1].lower())
        else:
            words.add(token.lower())
        if not optional:
            break
    return frozenset(words), tuple(prefixes), other


def word_trie_pattern(words, prefixes=(), *, overlapping: bool = False) -> str:
    """One regular expression matching any of `words` (or any word starting with one of `prefixes`) as a
    whole word, shaped as a trie: `re` tries alternatives one by one, and sharing prefixes keeps a scan
    over a sentence fast. `overlapping`: a lookahead, so that every start is found (group 1 holds the
    words), even inside a longer match ("not worth" and then "worth")."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def shape(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + shape(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    body = shape(trie)
    starts = [re.escape(prefix) + r"[\w'-]*" for prefix in prefixes]
    alternatives = "|".join(([body] if body else []) + starts) or "(?!)"
    if overlapping:
        return r"(?<![\w'-])(?=(" + alternatives + r")(?![\w'-]))"
    return r"(?<![\w'-])(?:" + alternatives + r")(?![\w'-])"


def written_forms(base: str) -> set[str]:
    """Written forms whose base form is `base` (the regular ones: base_form undone)."""
    forms = {base, base + "e", base + "s", base + "es", base + "ed", base + "d", base + "ing", base + "'s"}
    forms |= {base + "e's", base + "er", base + "ers", base + "es's"}
    if base:
        forms |= {base + base[-1] + "ed", base + base[-1] + "ing"}
    if base.endswith("y"):
        forms |= {base[:-1] + "ies", base[:-1] + "ied"}
    return {form for form in forms if base_form(form) == base} | {base}
