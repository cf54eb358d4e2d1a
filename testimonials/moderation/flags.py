"""Every flag code, declared once: what it means, its label, what its evidence is, its colour, who sets it.

Stored in Testimonial.flags as {"code", "reason", "action", "evidence"}. The moderation rules
produce the pipeline's codes; the admin's labels, filters and highlighting and the dashboard's
colours read this table, and a test fails when a code is used anywhere without an entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Evidence(StrEnum):
    TEXT = "text"  # words or snippets found in the text: the admin marks them where they occur
    REFERENCE = "reference"  # what it resembles: another testimonial of the brand; nothing for a match elsewhere
    NONE = "none"  # nothing to point at (a share of capitals, a length, a rating)


class SetBy(StrEnum):
    PIPELINE = "pipeline"  # the moderation rules, computed afresh on every processing run
    SUBMISSION = "submission"  # when the testimonial arrived; kept through processing


@dataclass(frozen=True)
class FlagCode:
    code: str
    label: str
    meaning: str  # what it found and what it asks for on its own (hold or reject)
    evidence: Evidence
    colour: str
    set_by: SetBy = SetBy.PIPELINE
    reads_rating: bool = False  # may only ever hold, never reject (FTC 16 CFR 465)


FLAGS: dict[str, FlagCode] = {
    flag.code: flag
    for flag in (
        FlagCode("profanity", "Profanity", "a word from profanity.txt, disguises undone; holds", Evidence.TEXT,
                 "#b91c1c"),
        FlagCode("blocklist", "Blocked word", "a word or phrase from the brand's own blocklist; holds", Evidence.TEXT,
                 "#9f1239"),
        FlagCode("link", "Link", "a URL or a bare domain (example.com); holds", Evidence.TEXT, "#2563eb"),
        FlagCode("spam_phrase", "Spam wording", "advertising or scam wording; holds, rejects with a link or contact",
                 Evidence.TEXT, "#c2410c"),
        FlagCode("repeated_chars", "Repeated characters", "a character 6+ times or a word 4+ times in a row; holds",
                 Evidence.TEXT, "#a16207"),
        FlagCode("repetitive", "Repeats itself",
                 "one phrase repeated over most of the text (a padded or copy-pasted testimonial); holds",
                 Evidence.TEXT, "#b45309"),
        FlagCode("shouting", "Shouting", "mostly capital letters; holds", Evidence.NONE, "#ca8a04"),
        FlagCode("gibberish", "Gibberish", "keyboard mashing or vowel-less strings; holds", Evidence.TEXT, "#854d0e"),
        FlagCode("email", "Email address", "an email address, redacted from the public text; holds", Evidence.TEXT,
                 "#7c3aed"),
        FlagCode("phone", "Phone number", "a phone number, redacted from the public text; holds", Evidence.TEXT,
                 "#6d28d9"),
        FlagCode("duplicate", "Duplicate",
                 "near-identical to an earlier testimonial of this brand, or copied from elsewhere (never said where); "
                 "holds", Evidence.REFERENCE, "#0f766e"),
        FlagCode("rating_mismatch", "Rating and text disagree",
                 "4-5 stars with clearly negative text; holds, never rejects", Evidence.NONE, "#0369a1",
                 reads_rating=True),
        FlagCode("too_short", "Too short", "shorter than the form asks; holds", Evidence.NONE, "#64748b"),
        FlagCode("too_long", "Too long", "longer than the form allows; holds", Evidence.NONE, "#475569"),
        FlagCode("captcha_unavailable", "Anti-spam check unavailable",
                 "the captcha or proof of work could not be reached when it was sent; holds", Evidence.NONE,
                 "#be185d", set_by=SetBy.SUBMISSION),
    )
}  # fmt: skip

CAPTCHA_UNAVAILABLE = "captcha_unavailable"
# The codes the moderation rules produce: recomputed on every run, so an earlier run's are replaced.
PIPELINE_CODES = frozenset(code for code, flag in FLAGS.items() if flag.set_by == SetBy.PIPELINE)
# Codes that read the star rating: decide() never lets them reject.
RATING_CODES = frozenset(code for code, flag in FLAGS.items() if flag.reads_rating)
UNKNOWN_COLOUR = "#94a3b8"


def label(code: str) -> str:
    """The admin's name for a code; an unknown code (an old row) shows as it is."""
    flag = FLAGS.get(code)
    return flag.label if flag else code


def colour(code: str) -> str:
    flag = FLAGS.get(code)
    return flag.colour if flag else UNKNOWN_COLOUR


def text_evidence(flags: list) -> list[str]:
    """The words and snippets flags found in the text (to mark them there), from stored flag dicts."""
    found: list[str] = []
    for flag in flags or []:
        if not isinstance(flag, dict):
            continue
        known = FLAGS.get(flag.get("code", ""))
        if known is None or known.evidence == Evidence.TEXT:  # an unknown (old) code: mark what it names
            found.extend(str(word) for word in flag.get("evidence") or [] if str(word).strip())
    return found
