"""Widgets that select by topic: "show what people say about support"."""

from __future__ import annotations

import pytest

from testimonials.models import Testimonial
from testimonials.selectors import testimonial_list_for_widget
from testimonials.widgets.render import is_curated
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db


def _topics(*codes: str) -> list[dict]:
    return [{"code": c, "polarity": "positive", "quote": "…", "terms": [c]} for c in codes]


def test_it_shows_only_testimonials_about_the_topic(brand_a, brand_b):
    TestimonialFactory(brand=brand_a, author_name="support", topics=_topics("speed", "support"))
    TestimonialFactory(brand=brand_a, author_name="price", topics=_topics("price"))
    TestimonialFactory(brand=brand_a, author_name="unscored", topics=[], sentiment_label="unscored")
    TestimonialFactory(
        brand=brand_a, author_name="held", topics=_topics("support"), state=Testimonial.State.PENDING_REVIEW
    )
    TestimonialFactory(brand=brand_b, author_name="other brand", topics=_topics("support"))
    widget = WidgetFactory(brand=brand_a, filter_topic="support")
    assert [t.author_name for t in testimonial_list_for_widget(widget=widget)] == ["support"]


def test_a_complaint_about_the_topic_counts_too_what_people_say_is_what_they_say(brand_a):
    TestimonialFactory(brand=brand_a, author_name="said", topics=[{"code": "support", "polarity": "negative"}])
    widget = WidgetFactory(brand=brand_a, filter_topic="support")
    assert [t.author_name for t in testimonial_list_for_widget(widget=widget)] == ["said"]


def test_a_topic_rule_makes_the_display_selected(brand_a):
    widget = WidgetFactory(brand=brand_a, order="newest")
    assert not is_curated(widget)
    widget.filter_topic = "support"
    assert is_curated(widget)
