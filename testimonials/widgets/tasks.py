"""The widget task: publish a widget's static files."""

from __future__ import annotations

from celery import shared_task

from testimonials.widgets import services


# Idempotent and debounced (a publish that finds nothing new does nothing), so it acks late.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def widget_publish_task(widget_id: int) -> str:
    return services.widget_publish(widget_id=widget_id)
