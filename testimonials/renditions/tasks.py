"""The media task: make an asset's public renditions. Routed to the `media` queue (config/settings.py)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from testimonials import outages, queue
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
    def retry(exc: Exception, attempt: int) -> None:
        if outages.is_infrastructure_error(exc):  # its attempt was given back: wait minutes, not seconds
            raise self.retry(exc=exc, countdown=queue.INFRASTRUCTURE_RETRY.delay(self.request.retries))
        raise self.retry(exc=exc, countdown=queue.MEDIA_RETRY.delay(attempt))

    return services.media_process(asset_id=asset_id, retry=retry)
