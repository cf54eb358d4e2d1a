"""The pipeline's task. It takes an id, never a model instance, and calls one service."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from testimonials import outages, queue
from testimonials.lifecycle.dispatch import lifecycle_dispatch
from testimonials.models import Testimonial
from testimonials.processing import pipeline

log = logging.getLogger(__name__)


# Idempotent (the pipeline claims rows with conditional updates), so it acks late and goes back to
# the queue if its worker dies; the attempt counter on each row bounds how often a poison message
# comes back. Text is capped, so a row takes milliseconds and a batch well under a second; the
# limits stay below VOUCH_STUCK_AFTER_SECONDS so the sweeper never releases a row still running.
@shared_task(bind=True, max_retries=None, soft_time_limit=60, time_limit=90, acks_late=True, reject_on_worker_lost=True)
def testimonial_process_task(self, testimonial_id: int, lifecycle_entry_ids: list[int] | None = None) -> str:
    # A submit's "received" change rides with this message (queue.send_on_commit's carry): hand it to the
    # lifecycle's subscribers first, as its own dispatch task would. Idempotent; if it fails, the
    # lifecycle sweeper hands it off again, and processing goes on regardless.
    if lifecycle_entry_ids:
        try:
            lifecycle_dispatch(entry_ids=list(lifecycle_entry_ids))
        except Exception:
            log.exception("Handing off lifecycle entries %s failed; the sweeper will.", lifecycle_entry_ids)
    # Decides this row and, under load, other waiting rows with it (each row failing alone is
    # handled inside); what reaches the handlers below is a failure of the batch as a whole.
    try:
        outcomes = pipeline.testimonials_process(testimonial_id=testimonial_id)
        outcome = outcomes.get(testimonial_id, pipeline.ProcessOutcome("skipped"))
        return outcome.state if outcome.status == "failed" else outcome.status
    except SoftTimeLimitExceeded as exc:
        failure, error = exc, "Took too long."
    except Exception as exc:
        log.exception("Processing testimonial %s failed", testimonial_id)  # one line per outage: outages.py
        failure, error = exc, f"{type(exc).__name__}: {exc}"
    outage = outages.is_infrastructure_error(failure)
    policy = queue.INFRASTRUCTURE_RETRY if outage else queue.PROCESSING_RETRY
    try:
        state = pipeline.testimonial_processing_failed(
            testimonial_id=testimonial_id, error=error, infrastructure=outage
        )
    except Exception as exc:
        if not outages.is_infrastructure_error(exc):
            raise
        # The database is still down: try again later. The row stays claimed until then, and the
        # sweeper releases it if this retry is lost too.
        raise self.retry(exc=exc, countdown=queue.INFRASTRUCTURE_RETRY.delay(self.request.retries)) from exc
    if state == Testimonial.State.RECEIVED:
        raise self.retry(exc=failure, countdown=policy.delay(self.request.retries)) from failure
    return state
