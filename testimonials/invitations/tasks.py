"""Invitations' tasks: beat's tick, the sender, and CSV imports. Each loads fresh rows and calls one service;
retry policies are stated in testimonials/queue.py."""

from __future__ import annotations

import secrets
from dataclasses import asdict

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from testimonials import queue
from testimonials.invitations import importing, sending, upkeep

SENDER_LOCK = "vouch:invitations:sender"


# Beat runs it every VOUCH_INVITE_EVERY_SECONDS; nothing to retry: the next tick does the same work.
@shared_task(soft_time_limit=120, time_limit=150)
def invitations_tick_task() -> dict:
    result = upkeep.invitations_tick()
    if result["pending"]:
        queue.send(invitations_send_task)
    return result


# One sender chain at a time (a cache lock): it works through what is pending in bounded batches and
# hands the rest to its next task, so ticks never pile up parallel senders. A chain whose worker died
# leaves the lock to expire; its interrupted message is never sent again (upkeep.invitations_recover).
@shared_task(soft_time_limit=sending.SEND_DEADLINE_SECONDS + 60, time_limit=sending.SEND_DEADLINE_SECONDS + 90)
def invitations_send_task() -> dict:
    owner = secrets.token_hex(8)
    lease = int(sending.SEND_DEADLINE_SECONDS + settings.EMAIL_TIMEOUT + 30)
    if not cache.add(SENDER_LOCK, owner, timeout=lease):
        return {"busy": True}
    try:
        result = sending.invitations_send()
    finally:
        if cache.get(SENDER_LOCK) == owner:
            cache.delete(SENDER_LOCK)
    if result.more:
        queue.send(invitations_send_task)
    return asdict(result)


# Late ack: a job whose worker dies is delivered again and resumes from its checkpoint; attempts are
# counted on the row (importing.IMPORT_MAX_ATTEMPTS), and the tick resumes a job whose message was lost.
@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=900, time_limit=960)
def import_job_run_task(job_id: int) -> dict:
    job = importing.import_job_run(job_id=job_id)
    return {"status": job.status if job else "skipped"}
