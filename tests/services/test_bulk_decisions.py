"""Bulk decisions cost a constant number of queries, whatever the number of rows: services and admin actions."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from testimonials.models import AuditEvent, OutboxEntry, Testimonial
from testimonials.privacy.services import testimonials_erase
from testimonials.services.decisions import testimonials_add_tags, testimonials_decide, testimonials_set_featured
from tests.admin.conftest import login
from tests.factories import TagFactory, TestimonialFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State
CHANGELIST = reverse("admin:testimonials_testimonial_changelist")


def _rows(brand, n: int, state=State.PENDING_REVIEW) -> list[Testimonial]:
    return [TestimonialFactory(brand=brand, state=state) for _ in range(n)]


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as context:
        call()
    return len(context.captured_queries)


@pytest.mark.parametrize(
    "bulk",
    [
        lambda items, actor, tag: testimonials_decide(testimonials=items, actor=actor, verb="approve"),
        lambda items, actor, tag: testimonials_decide(testimonials=items, actor=actor, verb="reject", reason="Spam"),
        lambda items, actor, tag: testimonials_set_featured(testimonials=items, actor=actor, featured=True),
        lambda items, actor, tag: testimonials_add_tags(testimonials=items, actor=actor, tags=[tag]),
        lambda items, actor, tag: testimonials_erase(testimonials=items, actor=actor),
    ],
    ids=["approve", "reject", "feature", "tag", "erase"],
)
def test_a_bulk_decision_costs_the_same_queries_for_3_rows_as_for_50(alice, brand_a, bulk):
    tag = TagFactory(brand=brand_a)
    few, many = _rows(brand_a, 3), _rows(brand_a, 50)
    assert _queries(lambda: bulk(few, alice, tag)) == _queries(lambda: bulk(many, alice, tag))
    assert OutboxEntry.objects.count() == 53  # one recorded change per row, whatever the batch size


def test_approving_50_rows_from_the_admin_costs_the_same_queries_as_approving_3(alice, brand_a):
    client = login(alice)
    few, many = _rows(brand_a, 3), _rows(brand_a, 50)

    def approve(items):
        data = {"action": "approve_selected", ACTION_CHECKBOX_NAME: [i.pk for i in items], "index": 0}
        return lambda: client.post(CHANGELIST, data)

    assert _queries(approve(few)) == _queries(approve(many))
    assert Testimonial.objects.filter(state=State.APPROVED).count() == 53
    assert AuditEvent.objects.filter(action="approve").count() == 53


def test_a_bulk_decision_reports_the_rows_it_may_not_change_and_changes_the_rest(alice, brand_a, brand_b):
    mine, theirs = _rows(brand_a, 2), _rows(brand_b, 1)
    published = _rows(brand_a, 1, state=State.APPROVED)
    result = testimonials_decide(testimonials=mine + theirs + published, actor=alice, verb="unpublish")
    assert [item.id for item in result.done] == [published[0].id]
    refused = {item.id: error.message for item, error in result.refused}
    assert refused[theirs[0].id].startswith("Only the brand's owners and editors")
    assert all(
        refused[item.id] == "Only a published testimonial can be unpublished (this one: needs review)." for item in mine
    )
    assert Testimonial.objects.get(id=theirs[0].id).state == State.PENDING_REVIEW
