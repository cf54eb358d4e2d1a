"""What the pipeline stores of a testimonial's text: the label with its reason, topics, "not scored"."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from testimonials.insights.models import BrandTopic
from testimonials.models import Testimonial
from testimonials.processing import pipeline, writes
from tests.factories import BrandFactory, CollectionFormFactory, TestimonialFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State


def received(brand, **fields) -> Testimonial:
    fields.setdefault("form", CollectionFormFactory(brand=brand))
    return TestimonialFactory(brand=brand, state=State.RECEIVED, **fields)


def processed(item: Testimonial) -> Testimonial:
    pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    return item


@pytest.fixture
def auto_brand(db):
    return BrandFactory(slug="auto", auto_approve=True)


def test_it_stores_the_label_its_reason_and_the_topics(auto_brand):
    item = processed(
        received(
            auto_brand,
            rating=5,
            text="Onboarding took ten minutes and the team answered every question the same day. "
            "Our checkout conversion went up noticeably.",
        )
    )
    assert item.sentiment_label == "positive" and item.sentiment_score > 0
    assert item.sentiment_reason.startswith("Positive") and "5 stars" in item.sentiment_reason
    found = {t["code"]: t["polarity"] for t in item.topics}
    assert found["onboarding"] == "positive" and found["results"] == "positive"
    assert all(t["quote"] and t["terms"] for t in item.topics)
    assert item.highlight == "Our checkout conversion went up noticeably."


def test_it_labels_factual_praise_by_the_stars_and_says_so(auto_brand):
    item = processed(received(auto_brand, rating=5, text="We moved our whole team over in March."))
    assert item.sentiment_label == "positive" and item.sentiment_score == 0.0
    assert "by the 5 stars" in item.sentiment_reason


def test_it_does_not_score_a_language_it_cannot_read_and_still_decides_it(auto_brand):
    item = processed(received(auto_brand, rating=5, text="スタッフの対応がとても丁寧で、コーヒーも美味しかったです。"))
    assert (item.sentiment_label, item.sentiment_score, item.topics) == ("unscored", None, [])
    assert "Japanese" in item.sentiment_reason and item.language == "ja"
    assert item.state == State.APPROVED  # not scored is never a reason to hold


def test_a_mismatch_reads_the_text_not_the_label_and_only_holds(auto_brand):
    item = processed(
        received(auto_brand, rating=5, text="Terrible quality, it broke after one day. Very disappointed.")
    )
    assert item.state == State.PENDING_REVIEW and [f["code"] for f in item.flags] == ["rating_mismatch"]
    assert item.sentiment_label == "negative" and "although rated 5 stars" in item.sentiment_reason


def test_a_one_star_review_with_glowing_text_is_labelled_by_its_text_and_never_flagged(auto_brand):
    item = processed(received(auto_brand, rating=1, text="Absolutely love it, best coffee in town!"))
    assert item.sentiment_label == "positive" and item.flags == [] and item.state == State.APPROVED


def test_it_uses_the_brands_own_topics(auto_brand):
    BrandTopic.objects.create(brand=auto_brand, name="Latte art", code="latte_art", terms=["rosetta"])
    item = processed(received(auto_brand, text="The rosetta on my flat white was a work of art."))
    assert [t["code"] for t in item.topics] == ["latte_art"]
    other = processed(received(BrandFactory(slug="other", auto_approve=True), text="The rosetta was a work of art."))
    assert other.topics == []


def test_a_batch_loads_the_topic_vocabularies_of_all_its_brands_in_one_query(auto_brand):
    other = BrandFactory(slug="other", auto_approve=True)
    BrandTopic.objects.create(brand=other, name="Latte art", code="latte_art", terms=["rosetta"])
    first = received(auto_brand, text="Support was lovely.")
    rows = [received(brand, text="The rosetta was lovely.") for brand in (auto_brand, other, other)]
    with CaptureQueriesContext(connection) as queries:
        pipeline.testimonials_process(testimonial_id=first.id, limit=10)
    assert sum("testimonials_brandtopic" in q["sql"] for q in queries.captured_queries) == 1
    stored = {t.id: [x["code"] for x in t.topics] for t in Testimonial.objects.filter(id__in=[r.id for r in rows])}
    assert stored == {rows[0].id: [], rows[1].id: ["latte_art"], rows[2].id: ["latte_art"]}


def test_the_analysis_columns_are_declared_once_with_the_new_results():
    names = [c.name for c in writes.ANALYSIS_COLUMNS]
    assert {"sentiment_reason", "topics"} <= set(names) and len(names) == len(set(names))
    assert next(c for c in writes.ANALYSIS_COLUMNS if c.name == "topics").json


def test_quotes_of_the_text_never_keep_personal_data(auto_brand):
    item = processed(
        received(auto_brand, text="Support was wonderful, thank you Ada. Write to ada@example.com any time!")
    )
    assert [t["code"] for t in item.topics] == ["support"]
    stored = " ".join([item.highlight, item.sentiment_reason, *(t["quote"] for t in item.topics)])
    assert "ada@example.com" not in stored
    clean = processed(received(auto_brand, text="Support was wonderful, thank you Ada."))
    assert clean.topics[0]["quote"] == "Support was wonderful, thank you Ada."
