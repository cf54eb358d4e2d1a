"""The boundary between committed rows and the broker.

Every enqueue happens after commit and never raises: if the broker is down or silent, the row is
already safe in the database and the sweeper enqueues it again later. A broker error must never
turn into a 500 that invites the customer to submit twice.
"""

from __future__ import annotations

import logging
import random

log = logging.getLogger(__name__)


def backoff(retries: int, *, base: float = 2.0, cap: float = 300.0) -> float:
    """Seconds to wait before retry number `retries` (0-based): exponential, full jitter, capped."""
    return random.uniform(0, min(cap, base * 2**retries))


def _send(task_name: str, *args, **options) -> bool:
    from testimonials import tasks  # late import: tasks import services, services import this

    try:
        getattr(tasks, task_name).apply_async(args=args, retry=False, **options)
    except Exception:
        log.warning("Could not enqueue %s%r; the sweeper will retry it.", task_name, args, exc_info=True)
        return False
    return True


def enqueue_processing(testimonial_id: int, *, countdown: float = 0) -> bool:
    if countdown:
        return _send("testimonial_process_task", testimonial_id, countdown=countdown)
    return _send("testimonial_process_task", testimonial_id)


def enqueue_media(asset_id: int) -> bool:
    return _send("media_process_task", asset_id)


def enqueue_widget_publish(widget_id: int, *, countdown: float = 0) -> bool:
    return _send("widget_publish_task", widget_id, countdown=countdown)
