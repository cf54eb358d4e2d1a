"""The moderation policy (first version; the pipeline issue refines it)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from testimonials.moderation.sentiment import SentimentResult

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


@dataclass(frozen=True)
class Flag:
    code: str
    reason: str
    action: str = "hold"
    evidence: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"code": self.code, "reason": self.reason, "action": self.action, "evidence": list(self.evidence)}


@dataclass(frozen=True)
class Decision:
    state: str
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
    flags = []
    emails = _EMAIL.findall(text)
    if emails:
        flags.append(Flag("email", "Contains an email address (hidden in the public text).", "hold", tuple(emails)))
    return flags


def redact(text: str) -> str:
    return _EMAIL.sub("[email removed]", text)


def detect_language(text: str) -> str:
    return ""


def fingerprint(text: str) -> list[int]:
    return []


def similarity(a: str, b: str) -> float:
    return 0.0


def duplicate_flag(*, similarity: float, same_brand: bool) -> Flag | None:
    return None


def decide(flags: Sequence[Flag], *, auto_approve: bool) -> Decision:
    if any(f.action == "reject" for f in flags):
        return Decision("rejected", [f.reason for f in flags])
    if flags or not auto_approve:
        return Decision("pending_review", [f.reason for f in flags] or ["Waiting for a person to approve."])
    return Decision("approved", ["Nothing was flagged and the brand publishes automatically."])
