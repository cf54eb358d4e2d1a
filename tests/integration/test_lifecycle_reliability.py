"""The lifecycle outbox with a real broker, real workers and PostgreSQL: a change recorded while the broker
is down, or whose dispatching worker is killed, reaches its subscribers exactly once."""

from __future__ import annotations

import os
import signal
import time

import pytest

from testimonials.lifecycle.subscribers import subscribers
from testimonials.models import EventType, OutboxEntry, OutboxReceipt, Testimonial, Widget
from testimonials.services.decisions import testimonial_approve
from testimonials.widgets.services import widget_publish
from tests.factories import BrandFactory, MembershipFactory, TestimonialFactory, UserFactory, WidgetFactory
from tests.integration.support import RowLock, pool_children, someone_waits_on_a_lock
from tests.workers import celery_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
State = Testimonial.State
SWEEPING = {"VOUCH_SWEEP_EVERY_SECONDS": "0.5", "VOUCH_STUCK_AFTER_SECONDS": "1"}


@pytest.fixture
def shop():
    brand = BrandFactory(slug="lifecycle-shop", allowed_domains=["https://shop.example.com"])
    owner = UserFactory(username="owner")
    MembershipFactory(user=owner, brand=brand)
    widget = WidgetFactory(brand=brand)
    widget_publish(widget_id=widget.id)
    item = TestimonialFactory(brand=brand, author_name="Quiet Quentin", state=State.PENDING_REVIEW)
    return owner, widget, item


def _shows(widget: Widget, name: str) -> bool:
    from testimonials.widgets import files

    pointer = files.read_pointer(widget.public_id)
    data = files.read(f"widgets/{widget.public_id}/{pointer['data']}") if pointer else b""
    return name.encode() in (data or b"")


def test_a_change_recorded_while_the_broker_is_down_reaches_its_subscribers_once_it_returns(broker, shop):
    owner, widget, item = shop
    broker.stop()
    testimonial_approve(testimonial=item, actor=owner)  # committed; the hand-off after commit fails
    entry = OutboxEntry.objects.get()
    assert entry.dispatched_at is None and Testimonial.objects.get(id=item.id).state == State.APPROVED

    broker.start()
    with celery_worker(concurrency=1, beat=True, extra_env=SWEEPING):
        wait_until(lambda: OutboxEntry.objects.filter(id=entry.id, dispatched_at__isnull=False).exists(), limit=60)
        wait_until(lambda: _shows(widget, "Quiet Quentin"), limit=60)
        time.sleep(3)  # several more sweeps: nothing is handed off twice
    # Once per subscriber of an approval (webhooks, widgets, influence...), never twice.
    wanted = sorted(s.name for s in subscribers() if EventType.APPROVE in s.events)
    assert {"webhooks", "widgets"} <= set(wanted)
    assert sorted(OutboxReceipt.objects.values_list("subscriber", flat=True)) == wanted


def test_a_dispatch_whose_worker_is_killed_is_handed_off_again_exactly_once(broker, shop):
    owner, widget, item = shop
    lock = RowLock(Widget._meta.db_table, widget.id)  # the widgets subscriber blocks where it marks the widget
    try:
        with celery_worker(concurrency=1) as worker:
            testimonial_approve(testimonial=item, actor=owner)
            wait_until(someone_waits_on_a_lock, limit=30)
            [child] = pool_children(worker)
            os.kill(child, signal.SIGKILL)  # mid-dispatch, before the subscriber's transaction commits
            wait_until(lambda: pool_children(worker) and child not in pool_children(worker), limit=30)
        lock.release()
        entry = OutboxEntry.objects.get()
        # Each subscriber commits its own receipt: webhooks (before widgets) handled it; widgets did not.
        assert entry.dispatched_at is None and not OutboxReceipt.objects.filter(subscriber="widgets").exists()
        with celery_worker(concurrency=1, beat=True, extra_env=SWEEPING):
            wait_until(lambda: OutboxEntry.objects.filter(id=entry.id, dispatched_at__isnull=False).exists(), limit=60)
            wait_until(lambda: _shows(widget, "Quiet Quentin"), limit=60)
            time.sleep(3)
    finally:
        lock.release()
    assert OutboxReceipt.objects.filter(entry=entry, subscriber="widgets").count() == 1
