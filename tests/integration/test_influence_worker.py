"""Influence with real workers, PostgreSQL and Redis: the share image is drawn by the worker that hands
the approval to the subscribers, and beat republishes an auto-ordered widget once its rollups move."""

from __future__ import annotations

import json

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from testimonials.analytics.models import DailyRollup
from testimonials.influence.models import ShareImage
from testimonials.models import Testimonial, Widget
from testimonials.services.decisions import testimonial_approve
from testimonials.widgets import files
from tests.factories import BrandFactory, MembershipFactory, TestimonialFactory, UserFactory, WidgetFactory
from tests.workers import celery_worker, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _published_posterior(widget: Widget, public_id: str):
    pointer = files.read_pointer(widget.public_id)
    raw = files.read(f"widgets/{widget.public_id}/{pointer['data']}") if pointer else None
    if not raw:
        return None
    return next((item.get("p") for item in json.loads(raw)["items"] if item["id"] == public_id), None)


def test_a_worker_draws_the_share_image_and_beat_republishes_the_auto_order(broker):
    brand = BrandFactory(slug="influence-shop", allowed_domains=["https://shop.example.com"])
    owner = UserFactory(username="owner")
    MembershipFactory(user=owner, brand=brand)
    widget = WidgetFactory(brand=brand, order=Widget.Order.AUTO)
    item = TestimonialFactory(brand=brand, author_name="Shared Sam", state=Testimonial.State.PENDING_REVIEW)
    with celery_worker(concurrency=1, beat=True, extra_env={"VOUCH_AUTO_ORDER_REFRESH_SECONDS": "1"}):
        testimonial_approve(testimonial=item, actor=owner)
        wait_until(lambda: ShareImage.objects.filter(testimonial=item).exists(), limit=60)
        path = ShareImage.objects.get(testimonial=item).path
        assert default_storage.open(path).read(8) == b"\x89PNG\r\n\x1a\n"
        # No data yet: the weak prior at the floor rate (0.5 % of 20 views).
        wait_until(lambda: _published_posterior(widget, item.public_id) == [0.1, 19.9], limit=60)
        DailyRollup.objects.create(
            brand=brand, widget=widget, testimonial=item, day=timezone.localdate(), views=500, conversions_last=40
        )
        # The pooled rate is now 8 %: prior 1.6 + 40, 18.4 + 460.
        wait_until(lambda: _published_posterior(widget, item.public_id) == [41.6, 478.4], limit=60)
