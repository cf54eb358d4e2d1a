"""Celery tasks: thin wrappers, one service call each. They take ids, never model instances.

Every task here is idempotent (the services claim rows with conditional updates), so they ack
late and go back to the queue if their worker dies; the attempt counter on each row bounds how
often a poison message can come back.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from testimonials.processing import pipeline
from testimonials.queue import backoff
from testimonials.renditions import services as media_services
from testimonials.widgets import services as widget_services

log = logging.getLogger(__name__)

IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


# Text is capped, so a row takes milliseconds and a batch well under a second; the limits stay below
# VOUCH_STUCK_AFTER_SECONDS so the sweeper never releases a row whose run is still alive.
@shared_task(bind=True, max_retries=None, soft_time_limit=60, time_limit=90, **IDEMPOTENT)
def testimonial_process_task(self, testimonial_id: int) -> str:
    # Decides this row and, under load, other waiting rows with it (each row failing alone is
    # handled inside); what reaches the handlers below is a failure of the batch as a whole.
    try:
        outcomes = pipeline.testimonials_process(testimonial_id=testimonial_id)
        outcome = outcomes.get(testimonial_id, pipeline.ProcessOutcome("skipped"))
        return outcome.state if outcome.status == "failed" else outcome.status
    except SoftTimeLimitExceeded as exc:
        state = pipeline.testimonial_processing_failed(testimonial_id=testimonial_id, error="Took too long.")
        if state == "received":
            raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
        return state
    except Exception as exc:
        log.exception("Processing testimonial %s failed", testimonial_id)
        state = pipeline.testimonial_processing_failed(
            testimonial_id=testimonial_id, error=f"{type(exc).__name__}: {exc}"
        )
        if state == "received":
            raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
        return state


@shared_task(
    bind=True,
    max_retries=None,
    soft_time_limit=settings.VOUCH_MEDIA_SOFT_TIME_LIMIT,
    time_limit=settings.VOUCH_MEDIA_SOFT_TIME_LIMIT + 60,
    **IDEMPOTENT,
)
def media_process_task(self, asset_id: int) -> str:
    return media_services.media_process(
        asset_id=asset_id, retry=lambda exc, attempt: self.retry(exc=exc, countdown=backoff(attempt, base=5.0))
    )


@shared_task(**IDEMPOTENT)
def widget_publish_task(widget_id: int) -> str:
    return widget_services.widget_publish(widget_id=widget_id)


@shared_task
def sweep_stuck_task() -> dict:
    return pipeline.sweep_stuck()
