"""Renditions follow the lifecycle: a testimonial taken off the public web (rejected or unpublished
after it was published) takes its photos and videos with it, as an erasure does (privacy/subscriber.py).

Widgets republish without it and drop their previous version at once (widgets/services.py); here its
public renditions are deleted, so their URLs stop answering, and made again under a new address.
"""

from __future__ import annotations

from testimonials.lifecycle.models import EventType, OutboxEntry
from testimonials.lifecycle.subscribers import subscribe
from testimonials.models import Testimonial
from testimonials.renditions.services import media_withdraw

PUBLISHED = Testimonial.State.APPROVED


def withdrawn(entry: OutboxEntry) -> bool:
    """A change that took a published testimonial off the public web (not a rejection of a held one)."""
    return entry.from_state == PUBLISHED and entry.to_state != PUBLISHED and entry.testimonial_id is not None


def renditions_follow_lifecycle(entries: list[OutboxEntry]) -> None:
    ids = [entry.testimonial_id for entry in entries if withdrawn(entry)]
    if ids:
        media_withdraw(testimonial_ids=ids)


# The two ways a person takes a published testimonial down (erasure deletes everything: privacy/).
subscribe("renditions", events=[EventType.REJECT, EventType.UNPUBLISH], handler=renditions_follow_lifecycle)
