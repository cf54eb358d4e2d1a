"""The lifecycle's task: hand recorded changes to their subscribers, in a worker."""

from __future__ import annotations

from celery import shared_task

from testimonials.lifecycle import dispatch


# No broker-level retry and no late ack: the outbox row is the durable copy. A lost or failed
# hand-off leaves entries undispatched, and the sweeper hands them off again (queue.DISPATCH_RETRY).
@shared_task(soft_time_limit=60, time_limit=90)
def lifecycle_dispatch_task(entry_ids: list[int]) -> dict:
    result = dispatch.lifecycle_dispatch(entry_ids=entry_ids)
    return {"dispatched": len(result.dispatched), "failed": len(result.failed)}
