"""The error branches of every task: what is retried, with which policy, and when a row is given up on."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry, SoftTimeLimitExceeded

from testimonials import queue, tasks
from testimonials.lifecycle.events import record
from testimonials.lifecycle.subscribers import subscribe, unsubscribe
from testimonials.lifecycle.tasks import lifecycle_dispatch_task
from testimonials.models import EventType, MediaAsset, OutboxEntry, Testimonial
from testimonials.processing import pipeline
from testimonials.processing.tasks import testimonial_process_task
from testimonials.renditions.tasks import media_process_task
from testimonials.widgets.tasks import widget_publish_task
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State


@pytest.fixture
def retries(monkeypatch):
    """What a task asked Celery to retry, and after how long (Celery itself is not running here)."""
    asked: list[dict] = []

    def retry(task):
        def ask(exc=None, countdown=None, **kwargs):
            asked.append({"task": task.name, "exc": exc, "countdown": countdown})
            raise Retry(exc=exc, when=countdown)

        return ask

    for task in (testimonial_process_task, media_process_task):
        monkeypatch.setattr(task, "retry", retry(task))
    return asked


def _received(brand, **fields):
    return TestimonialFactory(brand=brand, state=State.RECEIVED, text="Kind staff and a lovely shop.", **fields)


@pytest.mark.parametrize("failure", [SoftTimeLimitExceeded(), RuntimeError("the database went away")])
def test_a_failed_processing_run_goes_back_to_received_and_retries_with_its_policy(
    brand_a, monkeypatch, retries, failure
):
    item = _received(brand_a)

    def fails(**kwargs):
        pipeline.testimonials_claim(testimonial_id=item.id, limit=1)
        raise failure

    monkeypatch.setattr(pipeline, "testimonials_process", fails)
    monkeypatch.setattr(queue.random, "uniform", lambda low, high: high)  # the longest wait the policy allows
    with pytest.raises(Retry):
        testimonial_process_task.run(item.id)
    item.refresh_from_db()
    assert item.state == State.RECEIVED and item.attempts == 1
    assert item.last_error == (
        "Took too long." if isinstance(failure, SoftTimeLimitExceeded) else f"RuntimeError: {failure}"
    )
    assert retries == [
        {"task": testimonial_process_task.name, "exc": failure, "countdown": queue.PROCESSING_RETRY.base}
    ]


def test_a_processing_run_out_of_attempts_marks_the_row_failed_and_stops_retrying(
    brand_a, monkeypatch, retries, settings
):
    settings.VOUCH_MAX_ATTEMPTS = 2
    item = _received(brand_a, attempts=1)

    def fails(**kwargs):
        pipeline.testimonials_claim(testimonial_id=item.id, limit=1)
        raise RuntimeError("always")

    monkeypatch.setattr(pipeline, "testimonials_process", fails)
    assert testimonial_process_task.run(item.id) == State.FAILED
    item.refresh_from_db()
    assert item.state == State.FAILED and retries == []
    assert item.events.get().action == EventType.FAILED


def test_a_transient_media_failure_retries_the_asset_with_the_media_policy(brand_a, monkeypatch, retries):
    item = TestimonialFactory(brand=brand_a)
    asset = MediaAsset.objects.create(testimonial=item, kind=MediaAsset.Kind.PHOTO)
    from testimonials.renditions import services

    monkeypatch.setattr(services, "_process", lambda *a, **k: (_ for _ in ()).throw(OSError("storage away")))
    monkeypatch.setattr(queue.random, "uniform", lambda low, high: high)  # the longest wait the policy allows
    with pytest.raises(Retry):
        media_process_task.run(asset.id)
    asset.refresh_from_db()
    assert asset.status == MediaAsset.Status.PENDING and "temporary problem" in asset.error
    assert [r["countdown"] for r in retries] == [queue.MEDIA_RETRY.base * 2]  # after its first attempt


def test_the_dispatch_task_reports_what_it_handed_off_and_what_failed(
    alice, brand_a, django_capture_on_commit_callbacks
):
    item = TestimonialFactory(brand=brand_a, state=State.PENDING_REVIEW)

    def fails(entries):
        raise RuntimeError("receiver down")

    subscribe("test-failing", events=[EventType.FEATURE], handler=fails)
    try:
        from django.db import transaction

        with transaction.atomic():
            record(event=EventType.APPROVE, testimonial=item, actor=alice)
            record(event=EventType.FEATURE, testimonial=item, actor=alice)
        ids = list(OutboxEntry.objects.order_by("id").values_list("id", flat=True))
        assert lifecycle_dispatch_task.run(ids) == {"dispatched": 1, "failed": 1}
    finally:
        unsubscribe("test-failing")
    assert OutboxEntry.objects.filter(dispatched_at__isnull=True).get().event == EventType.FEATURE


def test_the_widget_task_publishes_and_says_when_a_widget_is_gone(brand_a):
    widget = WidgetFactory(brand=brand_a)
    assert widget_publish_task.run(widget.id) not in ("missing", "unchanged")
    assert widget_publish_task.run(widget.id) == "unchanged"
    assert widget_publish_task.run(widget.id + 1000) == "missing"


def test_the_sweep_task_reports_each_kind_of_work_it_recovered(brand_a, fake_broker):
    assert tasks.sweep_stuck_task.run() == {
        "testimonials": 0,
        "released": 0,
        "media": 0,
        "widgets": 0,
        "topics": 0,
        "lifecycle": 0,
    }
