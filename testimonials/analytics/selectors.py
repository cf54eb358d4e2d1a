"""Reads for the analytics: what the beacon endpoint needs to know about a widget (cached in process, so a
beacon costs no query), and the origin rule browsers apply to frame-ancestors."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.db import DatabaseError

from testimonials.analytics.models import WidgetHoldout
from testimonials.models import Widget

FACTS_TTL_SECONDS = 60  # a changed allowed-sites list or holdout reaches the endpoint within a minute
FACTS_MAX = 10_000  # bounded: unknown ids are cached too, and anyone can invent them
# While the database cannot be read (a restart), the last known facts keep serving, asked again this often.
FACTS_STALE_RETRY_SECONDS = 5


@dataclass(frozen=True)
class WidgetFacts:
    id: int
    public_id: str
    brand_id: int
    allowed: tuple[str, ...]
    holdout: int


_facts: OrderedDict[str, tuple[float, WidgetFacts | None]] = OrderedDict()
_lock = threading.Lock()


def widget_holdout_percent(widget_id: int) -> int:
    """The share of visitors held out of a widget (0: no holdout)."""
    return WidgetHoldout.objects.filter(widget_id=widget_id).values_list("percent", flat=True).first() or 0


def widget_facts_load(public_id: str) -> WidgetFacts | None:
    widget = Widget.objects.select_related("brand").filter(public_id=public_id).first()
    if widget is None:
        return None
    holdout = WidgetHoldout.objects.filter(widget=widget).values_list("percent", flat=True).first() or 0
    allowed = widget.allowed_domains or widget.brand.allowed_domains or []
    return WidgetFacts(widget.id, widget.public_id, widget.brand_id, tuple(allowed), holdout)


def widget_facts(public_id: str) -> WidgetFacts | None:
    now = time.monotonic()
    with _lock:
        hit = _facts.get(public_id)
        if hit and hit[0] > now:
            return hit[1]
    try:
        facts = widget_facts_load(public_id) if 4 <= len(public_id) <= 40 else None
    except DatabaseError:
        if hit is None:
            raise
        # The beacon itself needs no database: a restart must not turn visitors' beacons into 5xx
        # when this process's entry happens to expire during it (bench/soak.py).
        with _lock:
            _facts[public_id] = (now + FACTS_STALE_RETRY_SECONDS, hit[1])
        return hit[1]
    with _lock:
        _facts[public_id] = (now + FACTS_TTL_SECONDS, facts)
        _facts.move_to_end(public_id)
        while len(_facts) > FACTS_MAX:
            _facts.popitem(last=False)
    return facts


def widget_facts_forget() -> None:
    with _lock:
        _facts.clear()


def origin_allowed(origin: str, allowed) -> bool:
    """frame-ancestors' rule: an exact origin, or https://*.example.com for any subdomain (not the domain)."""
    if not origin:
        return False
    for entry in allowed:
        if entry == origin:
            return True
        scheme, sep, host = entry.partition("://*.")
        if sep and origin.startswith(scheme + "://"):
            rest = origin[len(scheme) + 3 :]
            name, _, port = host.partition(":")
            origin_host, _, origin_port = rest.partition(":")
            if port == origin_port and origin_host.endswith("." + name) and len(origin_host) > len(name) + 1:
                return True
    return False
