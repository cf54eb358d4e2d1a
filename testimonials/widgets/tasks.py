"""The widget task: publish a widget's static files."""

from __future__ import annotations

import logging

from celery import shared_task

from testimonials import outages, queue
from testimonials.widgets import services

log = logging.getLogger(__name__)


# Idempotent and debounced (a publish that finds nothing new does nothing), so it acks late. A
# publish cut short by the infrastructure (a full disk, the database) is retried over minutes; the
# sweeper republishes it too (widgets_republish_stale) if every retry is lost.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=30)
def widget_publish_task(self, widget_id: int) -> str:
    try:
        return services.widget_publish(widget_id=widget_id)
    except Exception as exc:
        if not outages.is_infrastructure_error(exc):
            raise
        log.warning("Publishing widget %s failed; retrying.", widget_id, exc_info=exc)
        raise self.retry(exc=exc, countdown=queue.INFRASTRUCTURE_RETRY.delay(self.request.retries)) from exc
