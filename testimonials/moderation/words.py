"""Word matching that survives how people disguise words: leetspeak, masking, spacing, stretching.

Used for the profanity list (profanity.txt) and for each brand's blocklist.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROFANITY_FILE = Path(__file__).with_name("profanity.txt")

# Only applied inside tokens that also contain letters, so "5 stars" and "2024" stay numbers.
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "i"}
)
_EDGE_PUNCTUATION = "\"'()[]{}<>.,;:?!\u201c\u201d\u2018\u2019\u2026"
_RUN3 = re.compile(r"(\w)\1{2,}")


@dataclass(frozen=True)
class Token:
    raw: str  # as written, edge punctuation removed
    norm: str  # lower case letters only, leetspeak undone; may keep "*" for masked letters


def _letters(value: str) -> str:
    return "".join(ch for ch in value if ch.isalpha() or ch == "*")


def normalise_word(raw: str) -> str:
    """'Sh1t!' -> 'shit', 'F*CK' -> 'f*ck', 'foda-se' -> 'fodase'."""
    word = raw.strip(_EDGE_PUNCTUATION).lower()
    if any(ch.isalpha() for ch in word):
        # A leading "$" or "!" inside a word is a disguise ("$hit", "sh!t"); at the end it is punctuation.
        word = word.rstrip("!").translate(_LEET)
    return _letters(word)


def tokens(text: str) -> list[Token]:
    found = []
    for raw in text.split():
        raw = raw.strip(_EDGE_PUNCTUATION) or raw
        norm = normalise_word(raw)
        if norm:
            found.append(Token(raw, norm))
    return found


def variants(word: str) -> set[str]:
    """The word as written and with stretched letters squeezed: 'fuuuuck' -> 'fuck', 'asssss' -> 'ass'."""
    return {word, _RUN3.sub(r"\1", word), _RUN3.sub(r"\1\1", word)}


def spaced_runs(found: Sequence[Token]) -> list[Token]:
    """Words spelled out letter by letter ('f u c k') joined back together."""
    joined, run = [], []
    for token in [*found, Token("", "")]:
        if len(token.norm) == 1 and token.norm != "*":
            run.append(token)
            continue
        if len(run) >= 3:
            joined.append(Token(" ".join(t.raw for t in run), "".join(t.norm for t in run)))
        run = []
    return joined


class WordList:
    """Whole words, stems ('fuck*') and exceptions ('!shitake'), matched on normalised tokens."""

    def __init__(self, entries: Iterable[str]):
        self.words: set[str] = set()
        self.stems: list[str] = []
        self.exceptions: set[str] = set()
        for entry in entries:
            entry = unicodedata.normalize("NFC", entry.strip().lower())
            if not entry or entry.startswith("#"):
                continue
            if entry.startswith("!"):
                self.exceptions.add(_letters(entry[1:]))
            elif entry.endswith("*"):
                self.stems.append(_letters(entry[:-1]))
            else:
                self.words.add(_letters(entry))

        # One regex for every stem, and a memo: reviews reuse a small vocabulary.
        self._stem_re = re.compile("|".join(re.escape(s) for s in sorted(self.stems, key=len, reverse=True)) or "(?!)")
        self._memo: dict[str, bool] = {}

    def matches(self, norm: str) -> bool:
        known = self._memo.get(norm)
        if known is None:
            known = self._memo[norm] = self._matches(norm)
            if len(self._memo) > 50_000:
                self._memo.clear()
        return known

    def _matches(self, norm: str) -> bool:
        if "*" in norm:
            return self._matches_masked(norm)
        forms = variants(norm) if _RUN3.search(norm) else (norm,)
        for form in forms:
            if form in self.exceptions:
                return False
            if form in self.words or self._stem_re.match(form):
                return True
        return False

    def _matches_masked(self, norm: str) -> bool:
        # "f*ck", "motherf**kers": at least two real letters, each "*" standing for one letter.
        if sum(ch.isalpha() for ch in norm) < 2:
            return False
        if any(_masked_pattern(norm).fullmatch(word) for word in self.words):
            return True
        # A stem plus any ending: the masked word's first letters must spell the stem.
        return any(_masked_pattern(norm[: len(stem)]).fullmatch(stem) for stem in self.stems if len(norm) >= len(stem))

    def find(self, text: str) -> list[str]:
        """The words of `text` on this list, as written."""
        found = tokens(text)
        hits = [t.raw for t in found if self.matches(t.norm)]
        hits += [t.raw for t in spaced_runs(found) if self.matches(t.norm)]
        return list(dict.fromkeys(hits))


def _masked_pattern(norm: str) -> re.Pattern[str]:
    return re.compile("".join("[a-z]" if ch == "*" else re.escape(ch) for ch in norm))


@lru_cache(maxsize=1)
def profanity() -> WordList:
    return WordList(PROFANITY_FILE.read_text(encoding="utf-8").splitlines())


def find_phrases(text: str, phrases: Sequence[str]) -> list[str]:
    """Blocklist entries found in `text`: whole words or word sequences, disguises undone, plural 's' allowed."""
    words = [t.norm for t in tokens(text)]
    padded = " " + " ".join(words) + " "
    squeezed = " " + " ".join(_RUN3.sub(r"\1", w) for w in words) + " "
    hits = []
    for phrase in phrases:
        wanted = " ".join(normalise_word(part) for part in str(phrase).split())
        if not wanted.strip():
            continue
        for candidate in (f" {wanted} ", f" {wanted}s "):
            if candidate in padded or candidate in squeezed:
                hits.append(str(phrase))
                break
    return hits


def mask(word: str) -> str:
    """'shit' -> 's**t': enough to recognise in the admin, not repeated in full."""
    letters = word.strip()
    if len(letters) <= 2:
        return letters[0] + "*" * (len(letters) - 1)
    return letters[0] + "*" * (len(letters) - 2) + letters[-1]
