"""Periodic tasks that span the domains; each domain's own tasks live in its package's tasks.py."""

from __future__ import annotations

from celery import shared_task

from testimonials import sweeper
from testimonials.lifecycle import dispatch


@shared_task
def sweep_stuck_task() -> dict:
    return sweeper.sweep_stuck()


@shared_task
def lifecycle_purge_task() -> int:
    return dispatch.lifecycle_purge()
