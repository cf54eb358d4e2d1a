"""Pieces every model shares: timestamps, public ids, and the validators of what is shown publicly."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #4f46e5.")


def https_only(value: str) -> None:
    """Customer-given links are shown on other people's sites: only https is safe to link."""
    if value and not value.lower().startswith("https://"):
        raise ValidationError("Links must start with https://.")


def text_colour_on(hex_colour: str) -> str:
    """Black or white text, whichever reads better on a brand's accent colour (WCAG luminance)."""
    try:
        r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    except (ValueError, IndexError):
        return "#ffffff"

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    return "#111111" if luminance > 0.179 else "#ffffff"


def new_public_id() -> str:
    """An unguessable id for anything that appears in public URLs; internal ids never do."""
    return secrets.token_urlsafe(9)


def new_referral_code() -> str:
    return secrets.token_urlsafe(6)


class TimeStamped(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
