"""A worker survives losing its broker: Redis is killed under a running worker, comes back on the
same port, and the same worker process consumes again with no one restarting it.

The crash seen in production (`Unrecoverable error: AttributeError("'NoneType' object has no
attribute 'hostname'")`) came from a late-acknowledged task finishing after the connection died: its
ack reached a channel whose connection was gone. The test freezes a task on a PostgreSQL lock,
kills Redis under it, and lets it finish while Redis is down, so that ack always happens.
"""

from __future__ import annotations

import signal
import time

import pytest

from testimonials.collection.submission import SubmissionData, testimonial_submit
from testimonials.models import ContentFingerprint, Testimonial
from tests.factories import BrandFactory, CollectionFormFactory
from tests.integration.support import TableLock, point_celery_at, someone_waits_on_a_lock
from tests.workers import celery_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
State = Testimonial.State
DECIDED = [State.APPROVED, State.PENDING_REVIEW]


def submit(form, text: str) -> Testimonial:
    data = SubmissionData(author_name="Grace", rating=5, text=text, consent_given=True)
    return testimonial_submit(form=form, data=data)


def decided(item_id: int) -> bool:
    return Testimonial.objects.filter(id=item_id, state__in=DECIDED).exists()


def kill(broker) -> None:
    broker.proc.send_signal(signal.SIGKILL)
    broker.proc.wait(timeout=10)


def test_it_keeps_consuming_in_the_same_worker_after_redis_is_killed_and_returns(broker):
    form = CollectionFormFactory(brand=BrandFactory(slug="broker-loss", auto_approve=True), slug="loss")
    with celery_worker(concurrency=2) as worker:
        first = submit(form, "Fast delivery and a friendly team, the chair is great.")
        wait_until(lambda: decided(first.id), limit=60)

        # A task is running (frozen after its claim) when Redis dies, and finishes while it is down.
        lock = TableLock(ContentFingerprint._meta.db_table)
        try:
            running = submit(form, "The desk is sturdy and the motor is quiet, great value.")
            wait_until(
                lambda: (
                    Testimonial.objects.filter(id=running.id, state=State.PROCESSING).exists()
                    and someone_waits_on_a_lock()
                ),
                limit=60,
            )
            kill(broker)
            time.sleep(3)  # the worker notices the lost connection and starts reconnecting
        finally:
            lock.release()
        wait_until(lambda: decided(running.id), limit=60)  # its ack meets a dead channel
        time.sleep(2)
        assert worker.poll() is None, "the worker exited when Redis died"

        broker.start()  # same port: the worker must reconnect by itself
        point_celery_at(broker.url)  # this test process's own pooled connection died too
        for n in range(2):
            item = submit(form, f"The lamp arrived quickly and works perfectly, thank you ({n}).")
            wait_until(lambda item=item: decided(item.id), limit=90)
        assert worker.poll() is None

        # And once more, killed while idle.
        kill(broker)
        time.sleep(3)
        broker.start()
        point_celery_at(broker.url)
        item = submit(form, "Second outage, still a lovely lamp and quick delivery.")
        wait_until(lambda: decided(item.id), limit=90)
        assert worker.poll() is None
