"""The ingest worker's tasks. Beat runs both (config/settings.py, CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task

from testimonials.analytics import services


@shared_task(soft_time_limit=120, time_limit=150)
def analytics_drain_task() -> dict:
    """Idempotent: buffer entries leave the buffer only after their transaction committed."""
    return asdict(services.analytics_drain())


@shared_task
def analytics_housekeeping_task() -> dict:
    return services.analytics_housekeeping()
