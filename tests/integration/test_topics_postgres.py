"""On PostgreSQL (make test-integration): the SQL over Testimonial.topics, and the pipeline's batch writes of
the new analysis columns (jsonb topics, a null score for "not scored"), which SQLite takes another way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from testimonials.insights import selectors, services
from testimonials.insights.models import TopicReread
from testimonials.models import Testimonial
from testimonials.moderation import sentiment, topics
from testimonials.processing import pipeline
from testimonials.selectors import testimonial_list_for_brand, testimonial_list_for_widget
from tests.factories import BrandFactory, CollectionFormFactory, TestimonialFactory, WidgetFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]
State = Testimonial.State


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL dialect is checked on PostgreSQL (make test-integration)")


def _said(brand, text, *, days_ago=1, state=State.APPROVED, name="Ada"):
    stored = topics.as_stored(topics.find(sentiment.read(text)))
    return TestimonialFactory(
        brand=brand, text=text, topics=stored, state=state, author_name=name,
        created_at=timezone.now() - timedelta(days=days_ago),
    )  # fmt: skip


def test_the_dashboard_counts_topics_per_week_with_quotes(db):
    brand = BrandFactory(slug="pg-topics")
    _said(brand, "Support was wonderful.", name="New")
    _said(brand, "Support was helpful.", days_ago=20, state=State.PENDING_REVIEW, name="Waiting")
    _said(brand, "Delivery was slow.", name="Slow")
    _said(brand, "Support was wonderful.", state=State.REJECTED)
    stats = selectors.topic_stats_for_brands(brand_ids=[brand.id])
    [support] = [t for t in stats.praise if t.code == "support"]
    assert support.count == 2 and sum(support.weekly) == 2 and support.weekly[-1] == 1
    assert [q.author_name for q in support.quotes] == ["New", "Waiting"]
    assert {t.code for t in stats.complaints} == {"delivery", "speed"}


def test_widgets_and_the_api_select_by_topic_with_json_containment(db):
    brand = BrandFactory(slug="pg-widget")
    _said(brand, "Support was wonderful.", name="About support")
    _said(brand, "The price was fair.", name="About price")
    widget = WidgetFactory(brand=brand, filter_topic="support")
    assert [t.author_name for t in testimonial_list_for_widget(widget=widget)] == ["About support"]
    assert [t.author_name for t in testimonial_list_for_brand(brand=brand, topic="price")] == ["About price"]


def test_a_batch_writes_topics_reasons_and_a_null_score_for_text_it_cannot_read(db):
    brand = BrandFactory(slug="pg-batch", auto_approve=True)
    form = CollectionFormFactory(brand=brand)
    rows = [
        TestimonialFactory(brand=brand, form=form, state=State.RECEIVED, rating=5, text="Support was quick and kind."),
        TestimonialFactory(brand=brand, form=form, state=State.RECEIVED, text="スタッフの対応がとても丁寧でした。"),
        TestimonialFactory(brand=brand, form=form, state=State.RECEIVED, text="Our error rate dropped by half."),
    ]
    outcomes = pipeline.testimonials_process(testimonial_id=rows[0].id, limit=10)
    assert {o.status for o in outcomes.values()} == {"decided"}
    first, unread, outcome = (Testimonial.objects.get(id=r.id) for r in rows)
    assert first.sentiment_reason.startswith("Positive") and first.topics[0]["code"] == "support"
    assert (unread.sentiment_label, unread.sentiment_score, unread.topics) == ("unscored", None, [])
    assert outcome.topics[0]["code"] == "results" and outcome.sentiment_label == "positive"


def test_reading_again_writes_topics_in_bulk(db, settings):
    brand = BrandFactory(slug="pg-reread")
    items = [TestimonialFactory(brand=brand, text="Support was great.", topics=[]) for _ in range(3)]
    services.topics_reread_request(brand_ids=[brand.id])
    generation = TopicReread.objects.get(brand_id=brand.id).generation
    assert services.topics_reread_step(brand_id=brand.id, generation=generation) is False
    assert all(Testimonial.objects.get(id=i.id).topics[0]["code"] == "support" for i in items)
