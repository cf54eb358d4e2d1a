"""Reading a brand's testimonials again for topics, in bounded steps."""

from __future__ import annotations

from celery import shared_task

from testimonials import queue
from testimonials.insights.services import topics_reread_step


@shared_task(acks_late=True, reject_on_worker_lost=True)
def brand_topics_reread_task(brand_id: int, generation: int) -> bool:
    """One step (services.REREAD_BATCH rows), then the next is enqueued until the brand is done.

    Idempotent (the cursor is on the row, fenced by `generation`); a lost step is resumed by the sweeper.
    """
    more = topics_reread_step(brand_id=brand_id, generation=generation)
    if more:
        queue.send(brand_topics_reread_task, brand_id, generation)
    return more
