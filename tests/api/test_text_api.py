"""The API's side of text intelligence: reasons, topics and "not scored", and filters by them."""

import pytest
from django.urls import reverse

from testimonials.models import Testimonial
from testimonials.services.api_keys import api_key_create
from tests.factories import TestimonialFactory

pytestmark = pytest.mark.django_db
SUPPORT = [{"code": "support", "polarity": "positive", "quote": "Support was quick.", "terms": ["Support"]}]


@pytest.fixture
def key_a(alice, brand_a):
    return api_key_create(brand=brand_a, actor=alice, name="Zapier")[1]


def _get(client, key, **params):
    response = client.get(reverse("api-testimonial-list"), params, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200, response.content
    return {row["author_name"]: row for row in response.json()["results"]}


def test_it_gives_the_reason_and_the_topics_and_null_for_a_text_it_cannot_score(client, key_a, brand_a):
    TestimonialFactory(brand=brand_a, author_name="Sam", sentiment_label="positive", sentiment_score=0.6,
                       sentiment_reason="Positive: praise.", topics=SUPPORT)  # fmt: skip
    TestimonialFactory(brand=brand_a, author_name="Yuki", sentiment_label="unscored", sentiment_score=None,
                       sentiment_reason="Not scored: written in Japanese.", topics=[])  # fmt: skip
    rows = _get(client, key_a)
    assert rows["Sam"]["sentiment_reason"] == "Positive: praise." and rows["Sam"]["topics"] == SUPPORT
    assert (rows["Yuki"]["sentiment_label"], rows["Yuki"]["sentiment_score"]) == ("unscored", None)


def test_it_filters_by_sentiment_and_topic_and_refuses_bad_values(client, key_a, brand_a, brand_b):
    TestimonialFactory(brand=brand_a, author_name="Sam", sentiment_label="positive", topics=SUPPORT)
    TestimonialFactory(brand=brand_a, author_name="Yuki", sentiment_label="unscored", topics=[])
    TestimonialFactory(brand=brand_b, author_name="Other", sentiment_label="unscored", topics=SUPPORT)
    assert set(_get(client, key_a, sentiment="unscored")) == {"Yuki"}
    assert set(_get(client, key_a, topic="support")) == {"Sam"}
    assert set(_get(client, key_a, topic="price")) == set()
    url = reverse("api-testimonial-list")
    for bad in ({"sentiment": "happy"}, {"topic": "Support; DROP"}):
        assert client.get(url, bad, HTTP_AUTHORIZATION=f"Bearer {key_a}").status_code == 400


def test_charlie_gets_404_for_brand_as_testimonial_and_its_topics(client, brand_a, charlie, brand_b):
    item = TestimonialFactory(brand=brand_a, topics=SUPPORT)
    key = api_key_create(brand=brand_b, actor=charlie, name="B")[1]
    detail = reverse("api-testimonial-detail", args=[item.public_id])
    assert client.get(detail, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 404
    assert _get(client, key, topic="support") == {}


def test_it_counts_a_testimonial_as_the_dashboard_does(brand_a):
    # Not scored is a label of its own, stored and filtered like any other.
    assert "unscored" in Testimonial.Sentiment.values
