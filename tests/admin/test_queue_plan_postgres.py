"""On PostgreSQL, the admin's pages are served by their indexes (make test-integration).

If someone changes the queue's order or testimonial_flagged_expression without the index that
repeats it, the first page of the queue falls back to sorting every waiting row: this catches it.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import RequestFactory

from testimonials.admin.testimonials import TestimonialAdmin
from testimonials.models import Testimonial
from testimonials.selectors import dashboard_stats_for_brands
from tests.factories import TestimonialFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
State = Testimonial.State


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL (make test-integration)")


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Few rows here: forbid the shortcuts a tiny table invites, so the plan shows what the index can do.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")  # a full sort stays possible, only priced out
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _changelist_queryset(user, query: str = ""):
    from django.contrib import admin

    request = RequestFactory().get("/admin/testimonials/testimonial/" + query)
    request.user = user
    model_admin = admin.site._registry[Testimonial]
    assert isinstance(model_admin, TestimonialAdmin)
    changelist = model_admin.get_changelist_instance(request)
    return changelist.queryset[:50]


def test_it_reads_the_queue_in_index_order_without_sorting_it(brand_a, form_a, alice):
    flag = [{"code": "link", "reason": "Contains a link.", "evidence": ["x.example"]}]
    for i in range(30):
        TestimonialFactory(brand=brand_a, form=form_a, state=State.PENDING_REVIEW, flags=flag if i % 3 else [])
    plan = _plan(_changelist_queryset(alice))
    assert "testimonial_queue_brand_idx" in plan, plan
    full_sorts = [line for line in plan.splitlines() if re.match(r"\s*(->\s+)?Sort\s+\(cost", line)]
    assert not full_sorts, plan
    # An Incremental Sort is fine for the id tiebreak only: flag and date must come presorted.
    presorted = [line for line in plan.splitlines() if "Presorted Key:" in line]
    assert all("created_at" in line for line in presorted), plan


def test_it_reads_the_full_list_newest_first_from_the_date_index(brand_a, form_a, alice):
    for _ in range(10):
        TestimonialFactory(brand=brand_a, form=form_a)
    plan = _plan(_changelist_queryset(alice, "?state=all"))
    assert "testimonial_brand_recent_idx" in plan, plan


def test_it_counts_the_dashboard_totals_from_the_index_alone(brand_a, form_a):
    for rating in (1, 3, 5):
        TestimonialFactory(brand=brand_a, form=form_a, rating=rating)
    qs = Testimonial.objects.filter(brand_id__in=[brand_a.pk]).values("state", "form_id")
    from django.db.models import Count

    plan = _plan(qs.annotate(n=Count("*")).order_by())
    assert "Index Only Scan using testimonial_dashboard_idx" in plan, plan
    assert dashboard_stats_for_brands(brand_ids=[brand_a.pk]).rating_distribution == {1: 1, 2: 0, 3: 1, 4: 0, 5: 1}
