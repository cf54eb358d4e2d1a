"""The outbox page is for the people who run the installation; brand staff never see it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from testimonials.models import OutboxEntry, Testimonial
from testimonials.services.decisions import testimonial_approve
from tests.admin.conftest import login
from tests.factories import TestimonialFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("admin:testimonials_outboxentry_changelist")


def test_it_shows_superusers_what_waits_for_a_subscriber(alice, brand_a):
    testimonial_approve(
        testimonial=TestimonialFactory(brand=brand_a, state=Testimonial.State.PENDING_REVIEW), actor=alice
    )
    OutboxEntry.objects.update(last_error="webhooks: ConnectionError: receiver down")
    root = UserFactory(username="root", is_superuser=True)
    page = login(root).get(URL + "?delivery=failing").content.decode()
    assert "approve" in page and "Brand A" in page


def test_it_is_not_there_for_brand_staff(alice, charlie):
    for person in (alice, charlie):
        assert login(person).get(URL).status_code in (403, 404)
