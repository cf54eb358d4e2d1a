"""The dashboard: counts, ratings, sentiment over time, submissions per form, time to moderation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from testimonials.models import Testimonial
from testimonials.selectors import dashboard_stats_for_brands
from tests.admin.conftest import login
from tests.factories import CollectionFormFactory, TestimonialFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State
DASHBOARD = "/admin/testimonials/testimonial/dashboard/"


@pytest.fixture
def inbox(brand_a, brand_b, form_a, form_b):
    now = timezone.now()
    survey = CollectionFormFactory(brand=brand_a, title="Onboarding survey")
    rows = [
        # (form, state, rating, sentiment, age, decided after)
        (form_a, State.APPROVED, 5, "positive", timedelta(days=3), timedelta(minutes=20)),
        (form_a, State.APPROVED, 4, "positive", timedelta(days=10), timedelta(hours=5)),
        (form_a, State.PENDING_REVIEW, 1, "negative", timedelta(days=1), None),
        (survey, State.REJECTED, 3, "neutral", timedelta(days=20), timedelta(days=3)),
        (survey, State.FAILED, None, "", timedelta(days=2), None),
    ]
    for form, state, rating, sentiment, age, decided in rows:
        TestimonialFactory(
            brand=brand_a,
            form=form,
            state=state,
            rating=rating,
            sentiment_label=sentiment,
            created_at=now - age,
            decided_at=now - age + decided if decided else None,
        )
    TestimonialFactory(brand=brand_b, form=form_b, state=State.APPROVED, rating=2, sentiment_label="negative")
    return survey


def test_it_counts_states_ratings_forms_and_time_to_decision_for_one_brand(brand_a, inbox):
    stats = dashboard_stats_for_brands(brand_ids=[brand_a.pk])
    assert stats.by_state[State.APPROVED] == 2 and stats.by_state[State.PENDING_REVIEW] == 1
    assert stats.by_state[State.FAILED] == 1 and stats.by_state[State.REJECTED] == 1
    # Every eligible review counts, the waiting 1-star one too (FTC: no suppression); rejected ones do not.
    assert stats.rating_distribution == {1: 1, 2: 0, 3: 0, 4: 1, 5: 1}
    assert stats.rating_average == pytest.approx(10 / 3)
    assert stats.per_form == [("How did we do?", 3), ("Onboarding survey", 2)]
    assert stats.moderation_buckets == {"under 1 hour": 1, "1 to 24 hours": 1, "1 to 7 days": 1, "over 7 days": 0}
    assert stats.moderation_average is not None


def test_it_groups_sentiment_by_week(brand_a, inbox):
    stats = dashboard_stats_for_brands(brand_ids=[brand_a.pk], weeks=4)
    totals = {label: sum(week[label] for _, week in stats.sentiment_by_week) for label in ("positive", "negative")}
    assert totals == {"positive": 2, "negative": 1}
    weeks = [week for week, _ in stats.sentiment_by_week]
    assert weeks == sorted(weeks) and all(w.weekday() == 0 for w in weeks)


def test_it_draws_the_dashboard_without_any_outside_resource(inbox, alice_client, django_assert_max_num_queries):
    # 12 for the dashboard itself, one for each package's panel (the invitations funnel, one aggregate),
    # and 4 for the topics (their names, counts per week, quotes, not scored).
    with django_assert_max_num_queries(17):
        response = alice_client.get(DASHBOARD)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('<svg class="vouch-chart"') == 5
    assert "Onboarding survey" in body and "need a person" in body
    assert "https://" not in body.split("<body")[1]  # no CDN, no web font, no chart library from elsewhere


def test_it_shows_charlie_only_brand_b(inbox, charlie_client):
    body = charlie_client.get(DASHBOARD).content.decode()
    assert "Onboarding survey" not in body and "How did we do?" not in body
    assert "Brand B feedback" in body


def test_it_lets_a_member_of_two_brands_pick_one_but_never_a_stranger_brand(brand_a, brand_b, inbox, alice):
    from testimonials.models import Membership

    third = Membership.objects.create(user=alice, brand=brand_b, role="viewer").brand
    client = login(alice)
    both = client.get(DASHBOARD).content.decode()
    assert "Brand B feedback" in both and "Onboarding survey" in both
    only_b = client.get(DASHBOARD, {"brand": third.pk}).content.decode()
    assert "Brand B feedback" in only_b and "Onboarding survey" not in only_b
    Membership.objects.filter(user=alice, brand=brand_b).delete()
    stranger = login(alice).get(DASHBOARD, {"brand": brand_b.pk}).content.decode()
    assert "Brand B feedback" not in stranger


def test_it_lists_what_waits_longest_flagged_first_and_only_the_users_brands(brand_a, brand_b, form_a, form_b, alice):
    now = timezone.now()
    TestimonialFactory(
        brand=brand_a,
        form=form_a,
        author_name="Old Olga",
        state=State.PENDING_REVIEW,
        created_at=now - timedelta(days=9),
    )
    TestimonialFactory(
        brand=brand_a,
        form=form_a,
        author_name="Flagged Fred",
        state=State.PENDING_REVIEW,
        created_at=now - timedelta(days=1),
        flags=[{"code": "link", "reason": "Contains a link (x.example).", "evidence": ["x.example"]}],
    )
    TestimonialFactory(
        brand=brand_b,
        form=form_b,
        author_name="Other Brand Bea",
        state=State.PENDING_REVIEW,
        created_at=now - timedelta(days=30),
    )
    body = login(alice).get(DASHBOARD).content.decode()
    section = body.split("Next in the queue")[1].split("</section>")[0]
    assert section.index("Flagged Fred") < section.index("Old Olga")
    assert "Contains a link (x.example)." in section
    assert "Other Brand Bea" not in body
