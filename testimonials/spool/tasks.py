"""The spool's task: store what customers sent while the database or a disk was down."""

from __future__ import annotations

from celery import shared_task

from testimonials.spool import services


# Beat runs it on the sweeper's queue (it must see the web hosts' VOUCH_SPOOL_DIR); safe to overlap.
@shared_task(soft_time_limit=120, time_limit=150)
def spool_replay_task() -> dict:
    return services.spool_replay()
