"""Influence follows the lifecycle: a testimonial's share image follows what it says and whether it is
published, and goes with it when it is erased (or unpublished). A brand's new look redraws them.

Rendering happens here, in the worker that dispatches the entry (never per request): the image and
the receipt commit together, and a failure comes back through the sweeper like any subscriber's.

It also gives the widget renderer the auto order's posteriors (widgets never import influence).
"""

from __future__ import annotations

from testimonials import queue
from testimonials.influence.services import share_image_sync, widget_posteriors
from testimonials.influence.tasks import share_image_brand_refresh_task
from testimonials.lifecycle.models import TESTIMONIAL_EVENTS, EventType, OutboxEntry
from testimonials.lifecycle.subscribers import subscribe
from testimonials.models import TestimonialState
from testimonials.widgets.render import register_posterior_source

EVENTS = (TESTIMONIAL_EVENTS - {EventType.RECEIVED}) | {EventType.BRAND_CHANGE}


def influence_follows_lifecycle(entries: list[OutboxEntry]) -> None:
    seen = set()
    for entry in entries:
        if entry.event == EventType.BRAND_CHANGE:
            # Possibly thousands of images: a task of its own, a chunk at a time, after this commits.
            queue.send_on_commit(share_image_brand_refresh_task, entry.brand_id)
            continue
        key = (entry.testimonial_id, entry.public_id)
        if key in seen:
            continue
        seen.add(key)
        published = TestimonialState.APPROVED in entry.states
        if published or entry.event == EventType.ERASE:
            share_image_sync(testimonial_id=entry.testimonial_id, public_id=entry.public_id)


subscribe("influence", events=EVENTS, handler=influence_follows_lifecycle)
register_posterior_source(widget_posteriors)
