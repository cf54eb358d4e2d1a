"""Every moderation and redaction pattern does work linear in the text, on adversarial input.

No clock: tests/moderation/regex_work.py counts the steps a backtracking engine takes (as `re`
does), on inputs of two lengths, four times apart. Linear work grows about four times; quadratic
work (the old e-mail pattern on long text without spaces) sixteen times, and stops the count early.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import testimonials.moderation
from testimonials.moderation import rules
from tests.moderation.regex_work import TooMuchWork, work

SHORT, LONG = 200, 800  # four times apart
GROWTH = 6  # a linear pattern grows about 4x (startup costs aside); a quadratic one 16x
# Runs that stress backtracking: long text without spaces, near-addresses, near-phone numbers,
# repeated separators, quotes, and whitespace runs.
UNITS = [
    "a", "A", "1", "é", "_", ".", "-", " ", "\n", "!", "'", '"', "@", "a.", "a-", "a@", "@a.", "ab.cd.",
    "a1.", "1 ", "1.", "12-", "+1 ", "(1)", "a (at) ", "[at]", "www.", "http://a", "a a ", "ab ", "a!",
    " - ", ",", " ,", "'a", '"a ', "from 1 ", "to ", "1 day ", "aaaaaa ", "a.b@",
]  # fmt: skip


def _patterns() -> list[tuple[str, re.Pattern]]:
    """Every compiled pattern at module level in the moderation package, alone or in a list, dict or tuple."""
    found: dict[int, tuple[str, re.Pattern]] = {}
    for info in pkgutil.iter_modules(testimonials.moderation.__path__):
        module = importlib.import_module(f"testimonials.moderation.{info.name}")
        for name, value in vars(module).items():
            values = value.values() if isinstance(value, dict) else value
            candidates = values if isinstance(value, (list, tuple, dict)) else [value]
            for index, candidate in enumerate(candidates):
                if isinstance(candidate, tuple):  # (name, pattern) pairs: rules._SPAM
                    candidate = candidate[-1]
                if isinstance(candidate, re.Pattern):
                    found[id(candidate)] = (f"{info.name}.{name}[{index}]", candidate)
    return sorted(found.values(), key=lambda pair: pair[0])


PATTERNS = _patterns()


def test_it_finds_the_patterns_it_checks():
    names = {name.split("[")[0] for name, _ in PATTERNS}
    assert {"rules._EMAIL", "rules._PHONE", "rules._URL", "rules._DOMAIN", "rules._SPAM"} <= names
    assert len(PATTERNS) > 30


def _text(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


@pytest.mark.parametrize(("name", "pattern"), PATTERNS, ids=[name for name, _ in PATTERNS])
def test_it_does_linear_work_on_adversarial_text(name, pattern):
    for unit in UNITS:
        short = work(pattern, _text(unit, SHORT), budget=10**7)
        try:
            work(pattern, _text(unit, LONG), budget=GROWTH * short + 2_000)
        except TooMuchWork:
            pytest.fail(f"{name} does more than linear work on {unit!r} repeated ({short} steps at {SHORT} chars)")


def test_the_old_email_pattern_is_caught():
    """The check can fail: the pattern the issue measured (quadratic on long text without spaces)."""
    old = re.compile(r"[\w.+-]+(?:@|\s?\(at\)\s?|\s?\[at\]\s?)[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?![\w.-]*@)", re.I)
    short = work(old, "a" * SHORT, budget=10**7)
    with pytest.raises(TooMuchWork):
        work(old, "a" * LONG, budget=GROWTH * short + 2_000)


@pytest.mark.parametrize("unit", ["a", "a.", "1.", "a@", "@a.", "+1 ", "a (at) ", "ab.cd.", "a.b@"])
def test_redaction_and_flags_finish_on_fifty_thousand_characters(unit):
    """The real `re` on 50,000 characters of each shape (it would take minutes if quadratic)."""
    text = _text(unit, 50_000)
    assert rules.redact(text).count("[email removed]") == len(rules.find_emails(text))
    rules.find_links(text)
    rules.find_phones(text)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Write to ada@example.com.", ["ada@example.com"]),
        ("mail: Ada.Lovelace+shop@mail.example.co.uk!", ["Ada.Lovelace+shop@mail.example.co.uk"]),
        ("ada (at) example.com or bob[at]example.org", ["ada (at) example.com", "bob[at]example.org"]),
        ("a@b.example.com@c.org", ["b.example.com@c.org"]),
        ("ada@example.com.123 and x@y", ["ada@example.com"]),
        ("no address here: user@localhost, 5@3", []),
    ],
)
def test_it_still_finds_the_same_addresses(text, found):
    assert rules.find_emails(text) == found


def test_the_review_phrases_and_word_lists_do_linear_work():
    """The patterns built from the data files (review phrases, prefixes, profanity stems)."""
    from testimonials.moderation import scoring, words

    built = scoring._rules()
    patterns = [*built.phrases, built.prefixed, built.may_be_prefixed, words.profanity()._stem_re]
    for pattern in filter(None, patterns):
        for unit in ("not ,", "a ", ",", "never  ", "the ", "!!"):
            short = work(pattern, _text(unit, 100), budget=10**7)
            try:
                work(pattern, _text(unit, 400), budget=GROWTH * short + 2_000)
            except TooMuchWork:
                pytest.fail(f"{pattern.pattern[:80]!r} does more than linear work on {unit!r} repeated")
