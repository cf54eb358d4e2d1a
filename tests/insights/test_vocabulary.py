"""Text intelligence's vocabularies are declared once; these fail when a copy drifts."""

from __future__ import annotations

import re

from testimonials.admin.dashboard import SENTIMENT_COLOURS
from testimonials.admin.filters import SentimentFilter
from testimonials.lifecycle.models import EventType
from testimonials.lifecycle.subscribers import subscribers
from testimonials.models import Testimonial
from testimonials.moderation import sentiment, topics
from testimonials.widgets.subscriber import EVENTS as WIDGET_EVENTS


def test_the_sentiment_labels_are_the_scorers_own():
    assert tuple(Testimonial.Sentiment.values) == sentiment.LABELS
    assert dict(Testimonial.Sentiment.choices)["unscored"] == "Not scored"


def test_every_sentiment_label_has_a_dashboard_colour_and_a_filter_choice():
    assert set(SENTIMENT_COLOURS) == set(sentiment.LABELS)
    assert all(re.match(r"^#[0-9a-f]{6}$", colour) for colour in SENTIMENT_COLOURS.values())
    lookups = dict(SentimentFilter(None, {}, Testimonial, None).lookups(None, None))
    assert set(sentiment.LABELS) <= set(lookups)


def test_the_topic_events_are_followed_by_those_who_need_them():
    by_name = {s.name: s for s in subscribers()}
    assert EventType.TOPIC_CHANGE in by_name["insights"].events
    assert EventType.TOPICS_REREAD in WIDGET_EVENTS  # widgets selecting by topic follow the reading again
    assert EventType.TOPIC_CHANGE not in WIDGET_EVENTS  # ... not the change itself, before topics are read


def test_every_built_in_topic_has_a_code_a_label_and_terms():
    for topic in topics.builtin_topics():
        assert topic.code == topics.topic_code(topic.code) and topic.label and topic.terms
