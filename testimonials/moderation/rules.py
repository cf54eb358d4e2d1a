"""The moderation policy: flags with reasons an admin understands, and the decision they lead to.

Every flag says what it found, why that matters, and what it asks for on its own: "hold" (a
person looks first) or "reject" (a content reason: advertising spam). Nothing here ever looks at
a low rating (FTC 16 CFR 465 forbids suppressing reviews for their rating): the only rule that
reads the rating is `rating_mismatch`, which fires on a *high* rating with clearly negative text
and can only hold. `decide()` has no rating parameter and re-checks that guarantee.

Flag codes, with what each means and asks for, are declared once in `flags.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from testimonials.moderation import duplicates, language, words
from testimonials.moderation import flags as flag_codes
from testimonials.moderation.sentiment import SentimentResult

HOLD = "hold"
REJECT = "reject"
# Every code this module produces; other codes on a row were set elsewhere (e.g. at submit time).
CODES = flag_codes.PIPELINE_CODES
# Flags that read the rating: they may only ever hold (see decide()).
RATING_CODES = flag_codes.RATING_CODES

REPEATED_CHAR_RUN = 6
REPEATED_WORD_RUN = 4
# A phrase of up to REPETITION_MAX_WORDS words repeated at least REPETITION_MIN_TIMES times and
# covering REPETITION_SHARE of the words: "Great coffee. " pasted to fill 2,000 characters.
REPETITION_MAX_WORDS = 8
REPETITION_MIN_TIMES = 3
REPETITION_MIN_WORDS = 12
REPETITION_SHARE = 0.6
SHOUTING_MIN_LETTERS = 20
SHOUTING_UPPER_SHARE = 0.7
MISMATCH_MIN_RATING = 4
# The text must read at least this negative: sentiment.TEXT_OVERRIDES, where the text outweighs the stars.
MISMATCH_MAX_SCORE = -0.4
DUPLICATE_AT = 0.5
COPIED_ELSEWHERE = "Appears copied from elsewhere: suspected fake review."

# Every pattern here is linear in the text (tests/moderation/test_linear_patterns.py counts the work):
# a match may only start where a run of its characters starts (the lookbehinds), runs are taken
# possessively (`++`), and a check that scans ahead runs once per start, not once per backtrack.
# The e-mail pattern was quadratic on long text without spaces (each start rescanned the run).
_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]++(?:@|\s?\(at\)\s?|\s?\[at\]\s?)"
    r"(?![\w.-]*+@)"  # not the local part of a longer address ("a@b.c@d.org")
    r"(?:[\w-]++\.)+[a-z]{2,}+",
    re.IGNORECASE,
)
# Candidates only: a match counts as a phone number when it holds 9 to 15 digits.
_PHONE = re.compile(
    r"(?<![\w#$\u20ac\u00a3.,/-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,5}\)[\s.-]?)?\d{2,8}(?:[\s.-]\d{2,8}){1,4}(?![\w/])"
)
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']++", re.IGNORECASE)
_TLDS = (
    "com|net|org|io|co|biz|info|xyz|ru|top|shop|store|online|site|app|dev|me|ly|gl|uk|de|fr|es|it|nl|pt|us|ca|"
    "au|in|cn|tk|club|live|link|click|vip|win|bid|loan|tv|cc|eu|ch|be|pl|se|no|dk|ie|nz|br|mx"
)
_DOMAIN = re.compile(
    rf"(?<![@\w.-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s]*)?", re.IGNORECASE
)
_REPEATED_CHAR = re.compile(rf"([^\s\d])\1{{{REPEATED_CHAR_RUN - 1},}}")
_REPEATED_WORD = re.compile(rf"\b(\w+)(?:\W+\1\b){{{REPEATED_WORD_RUN - 1},}}", re.IGNORECASE)
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEYBOARD_RUNS = frozenset(
    line[i : i + 4] for row in _KEYBOARD_ROWS for line in (row, row[::-1]) for i in range(len(row) - 3)
)
_ASCII_WORD = re.compile(r"\b[a-zA-Z]{4,}\b")
_ANY_WORD = re.compile(r"[^\W\d_]{2,}")

SPAM_PHRASES = {
    "buy followers": r"\bbuy (?:cheap |real )?(?:followers|likes|views|subscribers)\b",
    "earn money": r"\b(?:earn|make) \$?\d[\d,]*\s?(?:\$|usd|eur|dollars)? (?:a|per|every) (?:day|week|hour|month)\b",
    "money fast": r"\bmake money (?:fast|online|from home)\b",
    "made money": r"\bi made \$\d[\d,]* (?:last|this|in a|a) ",
    "click here": r"\bclick (?:here|the link|this link|below)\b",
    "link in bio": r"\blink in (?:my )?bio\b",
    "check out my": r"\b(?:check out|visit|subscribe to) (?:my|our) (?:channel|website|site|page|profile|store|shop)\b",
    "follow me": r"\bfollow (?:me|us) on (?:instagram|insta|tiktok|twitter|x|facebook|youtube|telegram)\b",
    "promo code": r"\b(?:promo|discount|coupon|referral|voucher) code\b",
    "free prize": r"\b(?:free (?:gift card|iphone|spins|money|bitcoin|crypto)|win a free)\b",
    "limited offer": r"\b(?:limited time offer|act now|offer expires)\b",
    "gambling": r"\b(?:casino|poker bonus|sports betting|free spins)\b",
    "pharmacy": r"\b(?:viagra|cialis|without (?:a )?prescription)\b",
    "crypto": (
        r"\b(?:crypto trading|trading signals|forex signals|double your (?:bitcoin|crypto|money)"
        r"|investment opportunity)\b"
    ),
    "contact me": r"\b(?:whatsapp|telegram|dm|inbox) me\b",
    "weight loss": r"\blose \d+\s?(?:kg|kgs|lbs|pounds) in\b",
    "simple trick": r"\b(?:one|this) (?:simple|weird) trick\b",
}
_SPAM = [(name, re.compile(pattern, re.IGNORECASE)) for name, pattern in SPAM_PHRASES.items()]


@dataclass(frozen=True)
class Flag:
    code: str  # stable machine code, see the module docstring
    reason: str  # one sentence an admin understands
    action: str = HOLD  # what this flag alone asks for: "hold" or "reject"
    evidence: tuple[str, ...] = ()  # matched words/snippets, for highlighting in the admin

    def as_dict(self) -> dict:
        return {"code": self.code, "reason": self.reason, "action": self.action, "evidence": list(self.evidence)}

    @classmethod
    def from_dict(cls, data: dict) -> Flag:
        action = data.get("action") if data.get("action") in (HOLD, REJECT) else HOLD
        return cls(str(data.get("code", "")), str(data.get("reason", "")), action, tuple(data.get("evidence") or ()))


@dataclass(frozen=True)
class Decision:
    state: str  # Testimonial.State value: "approved" | "pending_review" | "rejected"
    reasons: list[str]


def check(
    *,
    text: str,
    rating: int | None,
    sentiment: SentimentResult,
    blocklist: Sequence[str] = (),
    min_length: int = 0,
    max_length: int = 0,
) -> list[Flag]:
    """Every content flag for one testimonial (duplicates excepted: they need the database). Pure."""
    flags: list[Flag] = []
    flags += _profanity(text)
    flags += _blocklist(text, blocklist)
    emails, phones = find_emails(text), find_phones(text)
    links = find_links(text)
    if links:
        shown = ", ".join(f'"{link}"' for link in links[:3])
        flags.append(
            Flag("link", f"Contains a link ({shown}): links in testimonials are often advertising.", HOLD, tuple(links))
        )
    flags += _spam_phrases(text, advertises=bool(links or emails or phones))
    flags += _repeated(text)
    flags += _repetitive(text)
    flags += _shouting(text)
    flags += _gibberish(text)
    if emails:
        flags.append(Flag("email", "Contains an email address; it is hidden in the public text.", HOLD, tuple(emails)))
    if phones:
        flags.append(Flag("phone", "Contains a phone number; it is hidden in the public text.", HOLD, tuple(phones)))
    flags += _rating_mismatch(rating, sentiment)
    flags += _length(text, min_length, max_length)
    return flags


# --------------------------------------------------------------------------- the rules


def _profanity(text: str) -> list[Flag]:
    found = words.profanity().find(text)
    if not found:
        return []
    masked = ", ".join(f'"{words.mask(w)}"' for w in found[:3])
    noun = "word" if len(found) == 1 else "words"
    return [Flag("profanity", f"Contains the profane {noun} {masked}.", HOLD, tuple(found))]


def _blocklist(text: str, blocklist: Sequence[str]) -> list[Flag]:
    found = words.find_phrases(text, blocklist) if blocklist else []
    if not found:
        return []
    shown = ", ".join(f'"{w}"' for w in found[:3])
    return [Flag("blocklist", f"Contains {shown}, on this brand's blocklist.", HOLD, tuple(found))]


def _spam_phrases(text: str, *, advertises: bool) -> list[Flag]:
    found = [m.group(0) for _, pattern in _SPAM if (m := pattern.search(text))]
    if not found:
        return []
    shown = ", ".join(f'"{p}"' for p in found[:3])
    if advertises:
        # Advertising wording plus a way to reach the advertiser: spam, a content reason to reject.
        return [
            Flag(
                "spam_phrase",
                f"Advertises ({shown}) and gives a link or contact: looks like spam.",
                REJECT,
                tuple(found),
            )
        ]
    return [Flag("spam_phrase", f"Uses wording typical of spam or advertising ({shown}).", HOLD, tuple(found))]


def _repeated(text: str) -> list[Flag]:
    found = [m.group(0) for m in _REPEATED_CHAR.finditer(text)]
    found += [m.group(0) for m in _REPEATED_WORD.finditer(text)]
    if not found:
        return []
    shown = found[0] if len(found[0]) <= 30 else found[0][:27] + "..."
    return [
        Flag(
            "repeated_chars",
            f'Repeats characters or words unusually ("{shown}"), a common spam signal.',
            HOLD,
            tuple(found),
        )
    ]


def repeated_phrase(text: str) -> tuple[str, float] | None:
    """The phrase repeated over most of the text, and the share of words it covers; None for honest text.

    Linear: one pass over the words per phrase length (1 to REPETITION_MAX_WORDS), counting each
    phrase in a dict; a text of n words costs at most 8n dictionary updates.
    """
    tokens = _ANY_WORD.findall(text.lower())
    if len(tokens) < REPETITION_MIN_WORDS:
        return None
    best: tuple[float, tuple[str, ...]] | None = None
    for size in range(1, REPETITION_MAX_WORDS + 1):
        counts: dict[tuple[str, ...], int] = {}
        last_end: dict[tuple[str, ...], int] = {}
        # Non-overlapping occurrences, so "a a a a" counts twice for "a a", not three times.
        for start in range(len(tokens) - size + 1):
            phrase = tuple(tokens[start : start + size])
            if last_end.get(phrase, -1) <= start:
                counts[phrase] = counts.get(phrase, 0) + 1
                last_end[phrase] = start + size
        phrase, times = max(counts.items(), key=lambda pair: pair[1], default=((), 0))
        share = times * size / len(tokens)
        if times >= REPETITION_MIN_TIMES and share >= REPETITION_SHARE and (best is None or share > best[0] + 0.05):
            best = (share, phrase)
    if best is None:
        return None
    return " ".join(best[1]), min(best[0], 1.0)


def _repetitive(text: str) -> list[Flag]:
    found = repeated_phrase(text)
    if found is None:
        return []
    phrase, share = found
    shown = phrase if len(phrase) <= 40 else phrase[:37] + "..."
    return [
        Flag(
            "repetitive",
            f'Repeats "{shown}" over {share:.0%} of the text: a padded or pasted testimonial.',
            HOLD,
            (phrase,),
        )
    ]


def _shouting(text: str) -> list[Flag]:
    cased = [ch for ch in text if ch.isupper() or ch.islower()]
    if len(cased) < SHOUTING_MIN_LETTERS:
        return []
    share = sum(ch.isupper() for ch in cased) / len(cased)
    if share < SHOUTING_UPPER_SHARE:
        return []
    return [Flag("shouting", f"Written mostly in capital letters ({share:.0%}).", HOLD)]


@lru_cache(maxsize=20_000)
def is_gibberish_word(word: str) -> bool:
    """Keyboard mashing ('asdfgh', 'lkjhgf') or a long vowel-less string ('xkcdqz')."""
    if word.isupper() and len(word) <= 5:
        return False  # an acronym: HDMI, NASA
    lower = word.lower()
    if not any(v in lower for v in "aeiouy"):
        return True
    return any(lower[i : i + 4] in _KEYBOARD_RUNS for i in range(len(lower) - 3))


def _gibberish(text: str) -> list[Flag]:
    candidates = _ASCII_WORD.findall(text)
    found = [w for w in candidates if is_gibberish_word(w)]
    all_words = len(_ANY_WORD.findall(text))
    if not found or not all_words:
        return []
    share = len(found) / all_words
    if (len(found) >= 2 and share >= 0.3) or share >= 0.5:
        shown = ", ".join(f'"{w}"' for w in found[:3])
        return [Flag("gibberish", f"Looks like random typing ({shown}).", HOLD, tuple(found))]
    return []


def _rating_mismatch(rating: int | None, sentiment: SentimentResult) -> list[Flag]:
    # Only a high rating is ever compared: a low rating is the customer's right, never a flag. The
    # score read here is the text's own (the label also weighs the stars, which would hide a mismatch).
    if rating is None or rating < MISMATCH_MIN_RATING or sentiment.score is None:
        return []
    if sentiment.score > MISMATCH_MAX_SCORE:
        return []
    return [
        Flag(
            "rating_mismatch",
            f"Rated {rating} stars but the text reads clearly negative (sentiment {sentiment.score:+.2f}): "
            "check the rating is what the customer meant.",
            HOLD,
        )
    ]


def _length(text: str, min_length: int, max_length: int) -> list[Flag]:
    size = len(text.strip())
    if min_length and size < min_length:
        return [Flag("too_short", f"The text has {size} characters; this form asks for at least {min_length}.", HOLD)]
    if max_length and size > max_length:
        return [Flag("too_long", f"The text has {size} characters; this form allows at most {max_length}.", HOLD)]
    return []


# --------------------------------------------------------------------------- personal data


def find_emails(text: str) -> list[str]:
    return [m.group(0) for m in _EMAIL.finditer(text)]


def _is_phone(candidate: str) -> bool:
    return 9 <= sum(ch.isdigit() for ch in candidate) <= 15


def find_phones(text: str) -> list[str]:
    without_emails = _EMAIL.sub(" ", text)
    return [m.group(0).strip() for m in _PHONE.finditer(without_emails) if _is_phone(m.group(0))]


def find_links(text: str) -> list[str]:
    rest = _EMAIL.sub(" ", text)
    found = [m.group(0).rstrip(".,;:!?)") for m in _URL.finditer(rest)]
    rest = _URL.sub(" ", rest)
    found += [m.group(0).rstrip(".,;:!?)") for m in _DOMAIN.finditer(rest)]
    return found


def redact(text: str) -> str:
    """The text as the public sees it: email addresses and phone numbers replaced."""
    text = _EMAIL.sub("[email removed]", text)
    # One pass: replacing each phone number found in the whole text again was quadratic in their number.
    return _PHONE.sub(lambda m: "[phone removed]" if _is_phone(m.group(0)) else m.group(0), text)


# --------------------------------------------------------------------------- language and duplicates


def detect_language(text: str) -> str:
    """ISO 639-1 code or "" when unsure; offline, no model."""
    return language.detect_language(text)


def fingerprint(text: str) -> list[int]:
    """LSH band hashes (signed 64-bit ints) for ContentFingerprint; [] for short texts."""
    return duplicates.fingerprint(text)


def similarity(a: str, b: str) -> float:
    """Near-duplicate similarity 0..1 (Jaccard of character 5-grams of the normalised texts)."""
    return duplicates.similarity(a, b)


def duplicate_flag(*, similarity: float, same_brand: bool) -> Flag | None:
    """A hold flag when `similarity` (to the closest other testimonial) marks a near-duplicate."""
    if similarity < DUPLICATE_AT:
        return None
    if same_brand:
        reason = (
            f"Nearly identical ({similarity:.0%}) to an earlier testimonial for this brand: "
            "a double submission or a fake."
        )
        return Flag("duplicate", reason, HOLD, ("same brand",))
    # A match in another brand is said generically: no brand, no share, no evidence. Naming it told
    # brand staff which texts other tenants had received (a cross-tenant oracle).
    return Flag("duplicate", COPIED_ELSEWHERE, HOLD)


# --------------------------------------------------------------------------- the decision


def decide(flags: Sequence[Flag], *, auto_approve: bool) -> Decision:
    """Reject for a content reason, hold for anything flagged, approve only when the brand allows it.

    There is no rating parameter on purpose: no brand can publish or hold by star rating.
    """
    rejecting = [f for f in flags if f.action == REJECT and f.code not in RATING_CODES]
    if rejecting:
        others = [f.reason for f in flags if f not in rejecting]
        return Decision("rejected", [f.reason for f in rejecting] + others)
    if flags:
        return Decision("pending_review", [f.reason for f in flags])
    if auto_approve:
        return Decision("approved", ["Nothing was flagged and the brand publishes automatically."])
    return Decision("pending_review", ["Nothing was flagged; this brand approves every testimonial by hand."])
