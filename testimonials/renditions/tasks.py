"""The media task: make an asset's public renditions. Routed to the `media` queue (config/settings.py)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from testimonials import queue
from testimonials.renditions import services


# Idempotent (the service claims and fences each asset), so it acks late and goes back to the
# queue if its worker dies; the attempt counter on the asset bounds redelivery.
@shared_task(
    bind=True,
    max_retries=None,
    soft_time_limit=settings.VOUCH_MEDIA_SOFT_TIME_LIMIT,
    time_limit=settings.VOUCH_MEDIA_SOFT_TIME_LIMIT + 60,
    acks_late=True,
    reject_on_worker_lost=True,
)
def media_process_task(self, asset_id: int) -> str:
    return services.media_process(
        asset_id=asset_id, retry=lambda exc, attempt: self.retry(exc=exc, countdown=queue.MEDIA_RETRY.delay(attempt))
    )
