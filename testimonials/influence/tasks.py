"""Influence's periodic task: the debounced republish of auto-ordered widgets."""

from __future__ import annotations

from celery import shared_task

from testimonials.influence import services


# Idempotent: a second run finds the digests it just stored and republishes nothing.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def auto_widgets_refresh_task() -> list[int]:
    return services.auto_widgets_refresh()
