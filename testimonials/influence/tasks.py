"""Influence's tasks: the debounced republish of auto-ordered widgets, and redrawing a brand's share
images after its look changed, a chunk at a time."""

from __future__ import annotations

from celery import shared_task

from testimonials import queue
from testimonials.influence import services


# Idempotent: a second run finds the digests it just stored and republishes nothing.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def auto_widgets_refresh_task() -> list[int]:
    return services.auto_widgets_refresh()


# Idempotent (an image that already matches is left alone), so it acks late; each chunk sends the next.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def share_image_brand_refresh_task(brand_id: int, after_id: int = 0) -> int | None:
    last = services.share_image_brand_refresh(brand_id=brand_id, after_id=after_id)
    if last is not None:
        queue.send(share_image_brand_refresh_task, brand_id, last)
    return last
