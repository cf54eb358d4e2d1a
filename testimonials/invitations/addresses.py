"""Email addresses as invitations compare, store and forget them."""

from __future__ import annotations

import hashlib
import re

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

_validate = EmailValidator(message="This is not an email address.")
# Control characters (CR and LF above all) never reach a header or a line of the message.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_SPACES = re.compile(r"\s+")


class BadAddress(ValueError):
    """An address that cannot be written to; `message` says why, for the per-row report."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def clean_address(value: str) -> str:
    """The address as given, trimmed, or BadAddress. A display name or two addresses in one cell are refused."""
    address = (value or "").strip()
    if not address:
        raise BadAddress("The email is missing.")
    if len(address) > 254:
        raise BadAddress("This email is longer than any address can be (254 characters).")
    if _CONTROL.search(address) or any(ch in address for ch in " ,;<>\"'"):
        raise BadAddress(f"{one_line(address, 60)!r} is not one email address.")
    try:
        _validate(address)
    except ValidationError as exc:
        raise BadAddress(f"{one_line(address, 60)!r} is not an email address.") from exc
    return address


def address_key(address: str) -> str:
    """What makes two addresses the same customer within a campaign: case never matters in practice."""
    return address.strip().lower()


def address_hash(address: str) -> str:
    """The only trace kept of a suppressed address: a one-way hash of its normalised form.

    Unkeyed on purpose: a rotated SECRET_KEY must never make an unsubscribed customer writable again.
    """
    return hashlib.sha256(b"vouch-suppression:" + address_key(address).encode()).hexdigest()


def one_line(text: str, limit: int) -> str:
    """Text safe for a header or a single line: control characters (CR, LF) become spaces, length capped."""
    flat = _SPACES.sub(" ", _CONTROL.sub(" ", text or "")).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
