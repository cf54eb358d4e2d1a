"""Visitor keys without cookies: HMAC-SHA256 of a rotating secret salt, the brand, the client IP and the
user agent (Plausible's method). The IP and user agent go into the hash and nowhere else.

A salt covers one attribution window of ANALYTICS_ATTRIBUTION_DAYS, aligned on UTC days; the beacon
endpoint keeps the current one in process memory until its window ends (one query per window per
process, never one per request).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from testimonials.analytics.models import VisitorSalt

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Salt:
    id: int
    secret: bytes
    ends_at: dt.datetime


def window_bounds(at: dt.datetime, *, days: int | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The attribution window holding `at`: windows of `days` UTC days, counted from 1970-01-01."""
    days = days or settings.ANALYTICS_ATTRIBUTION_DAYS
    index = (at - EPOCH).days // days
    start = EPOCH + dt.timedelta(days=index * days)
    return start, start + dt.timedelta(days=days)


def salt_for(at: dt.datetime) -> Salt:
    """The salt of the window holding `at`, made on first use (two processes racing make one)."""
    start, end = window_bounds(at)
    row = VisitorSalt.objects.filter(starts_at=start).first()
    if row is None:
        try:
            with transaction.atomic():
                row = VisitorSalt.objects.create(starts_at=start, ends_at=end, secret=secrets.token_bytes(32))
        except IntegrityError:
            row = VisitorSalt.objects.get(starts_at=start)
    return Salt(id=row.id, secret=bytes(row.secret), ends_at=row.ends_at)


_current: Salt | None = None
_lock = threading.Lock()


def current_salt(now: dt.datetime | None = None) -> Salt:
    global _current
    now = now or timezone.now()
    salt = _current
    if salt is None or now >= salt.ends_at or now < salt.ends_at - dt.timedelta(days=7):
        with _lock:
            salt = _current = salt_for(now)
    return salt


def forget_current_salt() -> None:
    """Drop the cached salt (tests, and a salt deleted by hand)."""
    global _current
    _current = None


def visitor_key(salt: Salt, *, brand_id: int, ip: str, user_agent: str) -> str:
    message = f"{brand_id}\x00{ip}\x00{user_agent}".encode()
    return hmac.new(salt.secret, message, hashlib.sha256).hexdigest()[:32]


def holdout_bucket(key: str, widget_public_id: str) -> int:
    """0..9999, uniform and stable for one visitor key and widget: below percent*100 is held out."""
    digest = hashlib.sha256(f"holdout\x00{widget_public_id}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 10_000


def visitor_seed(key: str, widget_public_id: str) -> int:
    """A per-visitor, per-widget number for the widget document (a stable order across one visitor's
    page views within a window), that reveals nothing of the key."""
    digest = hashlib.sha256(f"seed\x00{widget_public_id}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:4], "big")
