"""Approve-to-visible with a real worker process (embedded default: SQLite file, filesystem broker)."""

from __future__ import annotations

import json

import pytest

from testimonials.models import Testimonial
from testimonials.services.decisions import testimonial_approve
from testimonials.widgets import files
from testimonials.widgets.services import widget_publish
from tests.factories import TestimonialFactory, WidgetFactory
from tests.workers import celery_worker, wait_until


def _shown(widget) -> set[str]:
    pointer = files.read_pointer(widget.public_id) or {}
    raw = files.read(f"widgets/{widget.public_id}/{pointer.get('data', 'none')}")
    return {item["id"] for item in json.loads(raw)["items"]} if raw else set()


@pytest.mark.django_db(transaction=True)
def test_it_publishes_a_newly_approved_testimonial_through_a_real_worker(brand_a, alice):
    widget = WidgetFactory(brand=brand_a)
    widget_publish(widget_id=widget.id)
    item = TestimonialFactory(brand=brand_a, state=Testimonial.State.PENDING_REVIEW)
    assert item.public_id not in _shown(widget)

    testimonial_approve(testimonial=item, actor=alice)  # commits, then enqueues the debounced publish
    with celery_worker(queues="text"):
        wait_until(lambda: item.public_id in _shown(widget), limit=60)
