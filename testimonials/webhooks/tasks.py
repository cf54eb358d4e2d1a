"""Webhook tasks: send one delivery, the periodic pass over what is due, owners' notice, the log purge.
Retry policy: testimonials/queue.py (webhook_retry)."""

from __future__ import annotations

from celery import shared_task

from testimonials.webhooks import services


# Early ack on purpose: the row is the durable copy. A worker that dies mid-send leaves the delivery
# "sending" with a lease; once it lapses the periodic pass sends it again, with the same webhook-id.
@shared_task(soft_time_limit=45, time_limit=60)
def webhook_deliver_task(delivery_id: int) -> str:
    return services.webhook_deliver(delivery_id=delivery_id)


@shared_task(soft_time_limit=30, time_limit=45)
def webhook_deliver_due_task() -> int:
    return len(services.webhook_deliveries_due())


@shared_task(soft_time_limit=30, time_limit=45)
def webhook_notify_disabled_task(endpoint_id: int) -> int:
    return services.webhook_endpoint_notify_disabled(endpoint_id=endpoint_id)


@shared_task
def webhook_log_purge_task() -> int:
    return services.webhook_log_purge()
