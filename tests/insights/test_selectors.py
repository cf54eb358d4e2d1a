"""Reads about topics: vocabularies, labels, tag suggestions and the dashboard's praise and complaint topics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from testimonials.insights import selectors
from testimonials.insights.models import BrandTopic
from testimonials.models import Testimonial
from testimonials.moderation import sentiment, topics
from tests.factories import BrandFactory, TagFactory, TestimonialFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State
NOW = timezone.now()


def _said(brand, text, *, days_ago=1, state=State.APPROVED, name="Ada", vocab=None, **fields):
    stored = topics.as_stored(topics.find(sentiment.read(text), vocab))
    return TestimonialFactory(
        brand=brand,
        text=text,
        topics=stored,
        state=state,
        author_name=name,
        created_at=NOW - timedelta(days=days_ago),
        **fields,
    )


def test_it_loads_the_vocabularies_of_many_brands_in_one_query(brand_a, brand_b, django_assert_num_queries):
    BrandTopic.objects.create(brand=brand_a, name="Latte art", code="latte_art", terms=["rosetta"])
    BrandTopic.objects.create(brand=brand_b, name="Support", code="support", terms=["concierge"])
    with django_assert_num_queries(1):
        vocabularies = selectors.topic_vocabularies_for_brands([brand_a.id, brand_b.id])
    assert "latte_art" in vocabularies[brand_a.id].topics and "latte_art" not in vocabularies[brand_b.id].topics
    assert [t.code for t in topics.detect("The concierge was lovely.", vocabularies[brand_b.id])] == ["support"]


def test_it_names_topics_built_in_first_then_the_brands_own(brand_a, brand_b):
    BrandTopic.objects.create(brand=brand_a, name="Latte art", code="latte_art", terms=["rosetta"])
    BrandTopic.objects.create(brand=brand_b, name="Secret", code="secret", terms=["x"])
    labels = selectors.topic_labels_for_brands([brand_a.id])
    assert labels["support"] == "Support" and labels["latte_art"] == "Latte art" and "secret" not in labels
    assert selectors.topic_label("gone_topic", labels) == "Gone topic"
    assert ("latte_art", "Latte art") in selectors.topic_choices_for_brand(brand_id=brand_a.id)
    assert "secret" not in dict(selectors.topic_choices_for_brand(brand_id=brand_a.id))


def test_it_suggests_a_tag_per_topic_leaving_out_tags_already_there(brand_a):
    existing = TagFactory(brand=brand_a, name="Price", slug="price")
    item = _said(brand_a, "Support was great and the price was fair.")
    suggestions = selectors.tag_suggestions_for_testimonial(testimonial=item)
    assert [(s.code, s.label, s.tag) for s in suggestions] == [
        ("support", "Support", None),
        ("price", "Price", existing),
    ]
    item.tags.add(existing)
    assert [s.code for s in selectors.tag_suggestions_for_testimonial(testimonial=item)] == ["support"]
    assert selectors.tag_suggestions_for_testimonial(testimonial=_said(brand_a, "I bought a lamp.")) == []


# --------------------------------------------------------------------------- the dashboard


def test_it_counts_praise_and_complaints_per_topic_with_weekly_trends_and_quotes(brand_a, django_assert_num_queries):
    _said(brand_a, "Support was wonderful.", days_ago=1, name="New")
    _said(brand_a, "Support was helpful and kind.", days_ago=2, state=State.PENDING_REVIEW, name="Waiting")
    _said(brand_a, "Support was brilliant.", days_ago=40, name="Old")
    _said(brand_a, "Delivery was slow.", days_ago=3, name="Slow")
    _said(brand_a, "Support was wonderful, said a spammer.", days_ago=1, state=State.REJECTED)  # never counted
    _said(brand_a, "Support was wonderful.", days_ago=70)  # before the window
    with django_assert_num_queries(4):
        stats = selectors.topic_stats_for_brands(brand_ids=[brand_a.id], now=NOW)
    [support] = [t for t in stats.praise if t.code == "support"]
    assert support.label == "Support" and support.count == 3
    assert sum(support.weekly) == 3 and support.weekly[-1] == 2 and len(support.weekly) == 8
    # Published quotes first, newest first; two at most.
    assert [q.author_name for q in support.quotes] == ["New", "Old"]
    assert {t.code for t in stats.complaints} == {"delivery", "speed"}
    assert len(stats.weeks) == 8 and stats.weeks[0] == (NOW - timedelta(weeks=8)).date()


def test_it_counts_only_the_chosen_brands_and_says_how_many_were_not_scored(brand_a, brand_b):
    _said(brand_b, "Support was wonderful.")
    _said(brand_a, "スタッフの対応がとても丁寧でした。", sentiment_label=Testimonial.Sentiment.UNSCORED)
    stats = selectors.topic_stats_for_brands(brand_ids=[brand_a.id], now=NOW)
    assert stats.praise == [] and stats.complaints == [] and stats.unscored == 1
    everyone = selectors.topic_stats_for_brands(brand_ids=None, now=NOW)
    assert [t.code for t in everyone.praise] == ["support"]
    assert selectors.topic_stats_for_brands(brand_ids=[], now=NOW).praise == []


def test_it_shows_a_brands_own_topic_by_its_name(brand_a):
    BrandTopic.objects.create(brand=brand_a, name="Latte art", code="latte_art", terms=["rosetta"])
    vocab = topics.vocabulary([("latte_art", "Latte art", ["rosetta"])])
    _said(brand_a, "The rosetta was beautiful.", vocab=vocab)
    [trend] = selectors.topic_stats_for_brands(brand_ids=[brand_a.id], now=NOW).praise
    assert (trend.code, trend.label, trend.count) == ("latte_art", "Latte art", 1)


def test_it_shows_at_most_six_topics_each_way(db):
    brand = BrandFactory(slug="busy")
    for word in ["support", "delivery", "price", "quality", "speed", "onboarding", "staff"]:
        _said(brand, f"The {word} was excellent.")
    stats = selectors.topic_stats_for_brands(brand_ids=[brand.id], now=NOW)
    assert len(stats.praise) == selectors.TOP_TOPICS
