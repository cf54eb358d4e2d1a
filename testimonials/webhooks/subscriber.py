"""Webhooks follow the lifecycle: each entry becomes one delivery per endpoint subscribed to what it means.

The deliveries are rows written with this subscriber's receipts, so an entry handed off twice (a
worker killed after commit, the sweeper) creates them once; they are sent after commit. An erasure
first scrubs what earlier deliveries of that testimonial hold, then announces `testimonial.erased`.
"""

from __future__ import annotations

from testimonials.lifecycle.models import EventType, OutboxEntry
from testimonials.lifecycle.subscribers import subscribe
from testimonials.webhooks import checks, events  # noqa: F401  (checks registers the deploy check at start-up)
from testimonials.webhooks.services import webhook_deliveries_create, webhook_deliveries_scrub


def webhooks_follow_lifecycle(entries: list[OutboxEntry]) -> None:
    erased = [entry for entry in entries if entry.event == EventType.ERASE]
    if erased:
        webhook_deliveries_scrub(entries=erased)
    webhook_deliveries_create(entries=entries)


subscribe("webhooks", events=sorted(events.LIFECYCLE_SOURCES), handler=webhooks_follow_lifecycle)
