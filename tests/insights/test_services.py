"""A brand's topics, reading its testimonials again when they change, and tags accepted from topics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from testimonials.errors import ApplicationError, PermissionDenied
from testimonials.insights import services
from testimonials.insights.models import BrandTopic, TopicReread
from testimonials.lifecycle.models import AuditEvent, EventType
from testimonials.models import Tag, Testimonial
from testimonials.moderation import sentiment, topics
from tests.factories import TagFactory, TestimonialFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State


def _topic(brand, actor, name="Latte art", terms=("latte art", "rosetta")) -> BrandTopic:
    return services.brand_topic_save(
        topic=BrandTopic(brand=brand, name=name, terms=list(terms)), actor=actor, created=True
    )


def _stored(text: str, vocab=None) -> list[dict]:
    return topics.as_stored(topics.find(sentiment.read(text), vocab))


# --------------------------------------------------------------------------- the brand's topics


def test_an_editor_adds_a_topic_and_the_change_is_recorded(brand_a, bob, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        topic = _topic(brand_a, bob)
    assert (topic.code, topic.terms) == ("latte_art", ["latte art", "rosetta"])
    event = AuditEvent.objects.get(action=EventType.TOPIC_CHANGE)
    assert event.brand_id == brand_a.id and "Latte art" in event.note and event.actor == bob


def test_a_viewer_and_another_brand_cannot_change_topics(brand_a, victor, charlie):
    for actor in (victor, charlie):
        with pytest.raises(PermissionDenied):
            _topic(brand_a, actor)
    assert not BrandTopic.objects.exists() and not AuditEvent.objects.exists()


def test_a_topic_needs_a_name_and_terms_and_is_unique_per_brand(brand_a, alice):
    with pytest.raises(ValidationError, match="letters or digits"):
        _topic(brand_a, alice, name="!!!")
    with pytest.raises(ValidationError, match="at least one"):
        _topic(brand_a, alice, terms=())
    _topic(brand_a, alice)
    with pytest.raises(ValidationError, match="already has"):
        _topic(brand_a, alice, name="latte ART")
    with pytest.raises(ValidationError, match="too long"):
        _topic(brand_a, alice, name="Beans", terms=["a very long term of many words"])


def test_naming_a_built_in_topic_adds_terms_to_it_without_requiring_any(brand_a, alice):
    topic = _topic(brand_a, alice, name="Support", terms=())
    assert topic.extends_builtin and topic.code == "support"


def test_deleting_a_topic_is_recorded(brand_a, alice):
    topic = _topic(brand_a, alice)
    services.brand_topic_delete(topic=topic, actor=alice)
    assert not BrandTopic.objects.exists()
    assert AuditEvent.objects.filter(action=EventType.TOPIC_CHANGE, note__contains="deleted").exists()


# --------------------------------------------------------------------------- reading again


def test_a_vocabulary_change_reads_the_brands_testimonials_again(
    brand_a, brand_b, alice, fake_broker, django_capture_on_commit_callbacks
):
    item = TestimonialFactory(brand=brand_a, text="The rosetta on my latte was perfect.", topics=[])
    pending = TestimonialFactory(brand=brand_a, state=State.RECEIVED, text="The rosetta was perfect.", topics=[])
    other = TestimonialFactory(brand=brand_b, text="The rosetta was perfect.", topics=[])
    with django_capture_on_commit_callbacks(execute=True):
        _topic(brand_a, alice)  # its subscriber asks for reading again; the fake broker records the first step
    assert fake_broker.sent["brand_topics_reread_task"] == [brand_a.id]
    generation = TopicReread.objects.get(brand_id=brand_a.id).generation
    assert services.topics_reread_step(brand_id=brand_a.id, generation=generation) is False  # one step: done
    item.refresh_from_db(), pending.refresh_from_db(), other.refresh_from_db()
    assert [t["code"] for t in item.topics] == ["latte_art"]
    assert pending.topics == [] and other.topics == []  # the pipeline reads its own rows; other brands untouched
    assert TopicReread.objects.get(brand_id=brand_a.id).done
    assert AuditEvent.objects.filter(action=EventType.TOPICS_REREAD, brand_id=brand_a.id).count() == 1


def test_reading_again_goes_in_bounded_steps_and_resumes_where_it_stopped(brand_a, alice, monkeypatch, fake_broker):
    monkeypatch.setattr(services, "REREAD_BATCH", 2)
    items = [TestimonialFactory(brand=brand_a, text="Support was great.", topics=[]) for _ in range(5)]
    services.topics_reread_request(brand_ids=[brand_a.id])
    progress = TopicReread.objects.get(brand_id=brand_a.id)
    assert services.topics_reread_step(brand_id=brand_a.id, generation=progress.generation) is True
    assert TopicReread.objects.get(brand_id=brand_a.id).after_id == items[1].id
    while services.topics_reread_step(brand_id=brand_a.id, generation=progress.generation):
        pass
    assert all(t.topics for t in Testimonial.objects.filter(brand=brand_a))


def test_a_newer_change_stops_the_older_reading_again(brand_a, fake_broker):
    TestimonialFactory(brand=brand_a, text="Support was great.", topics=[])
    services.topics_reread_request(brand_ids=[brand_a.id])
    old = TopicReread.objects.get(brand_id=brand_a.id).generation
    services.topics_reread_request(brand_ids=[brand_a.id])
    assert services.topics_reread_step(brand_id=brand_a.id, generation=old) is False
    assert not TopicReread.objects.get(brand_id=brand_a.id).done  # the newer one still has to run
    assert services.topics_reread_step(brand_id=brand_a.id, generation=old + 1) is False
    assert TopicReread.objects.get(brand_id=brand_a.id).done


def test_reading_again_touches_only_the_topics(brand_a, alice, fake_broker):
    item = TestimonialFactory(
        brand=brand_a, text="Support was great.", topics=[], highlight="Chosen by a person", sentiment_label="negative"
    )
    services.topics_reread_request(brand_ids=[brand_a.id])
    services.topics_reread_step(brand_id=brand_a.id, generation=TopicReread.objects.get().generation)
    item.refresh_from_db()
    assert item.topics and item.highlight == "Chosen by a person" and item.sentiment_label == "negative"


def test_the_sweeper_resumes_a_reading_again_whose_message_was_lost(brand_a, fake_broker):
    with transaction.atomic():
        services.topics_reread_request(brand_ids=[brand_a.id])
    fake_broker.sent.clear()
    assert services.topics_reread_sweep(cutoff=timezone.now() - timedelta(minutes=5)) == 0  # not stuck yet
    TopicReread.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    assert services.topics_reread_sweep(cutoff=timezone.now() - timedelta(minutes=5)) == 1
    assert fake_broker.sent["brand_topics_reread_task"] == [brand_a.id]


# --------------------------------------------------------------------------- tags from topics


def test_accepting_a_suggestion_creates_the_tag_once_and_tags_the_testimonial(brand_a, bob):
    item = TestimonialFactory(brand=brand_a, topics=_stored("Support was great and delivery was fast."))
    tag = services.testimonial_accept_topic_tag(testimonial=item, actor=bob, code="support")
    assert (tag.name, tag.slug) == ("Support", "support")
    again = TestimonialFactory(brand=brand_a, topics=_stored("Support was great."))
    assert services.testimonial_accept_topic_tag(testimonial=again, actor=bob, code="support") == tag
    assert Tag.objects.filter(brand=brand_a).count() == 1
    assert list(item.tags.values_list("name", flat=True)) == ["Support"]
    assert AuditEvent.objects.filter(action=EventType.TAG, testimonial=item).exists()


def test_accepting_uses_the_brands_existing_tag_of_that_name(brand_a, bob):
    existing = TagFactory(brand=brand_a, name="Support", slug="support")
    item = TestimonialFactory(brand=brand_a, topics=_stored("Support was great."))
    assert services.testimonial_accept_topic_tag(testimonial=item, actor=bob, code="support") == existing


def test_only_a_topic_the_testimonial_talks_about_and_only_an_editor(brand_a, victor, bob):
    item = TestimonialFactory(brand=brand_a, topics=_stored("Support was great."))
    with pytest.raises(ApplicationError, match="does not talk about"):
        services.testimonial_accept_topic_tag(testimonial=item, actor=bob, code="price")
    with pytest.raises(PermissionDenied):
        services.testimonial_accept_topic_tag(testimonial=item, actor=victor, code="support")
    assert not Tag.objects.exists()


def test_bulk_tagging_by_topics_tags_each_with_its_own_and_refuses_other_brands(brand_a, brand_b, bob):
    mine = [
        TestimonialFactory(brand=brand_a, topics=_stored("Support was great.")),
        TestimonialFactory(brand=brand_a, topics=_stored("Support was great and the price was fair.")),
        TestimonialFactory(brand=brand_a, topics=[]),
    ]
    theirs = TestimonialFactory(brand=brand_b, topics=_stored("Support was great."))
    result = services.testimonials_accept_topic_tags(testimonials=[*mine, theirs], actor=bob)
    assert {t.id for t in result.done} == {mine[0].id, mine[1].id}
    assert [t.id for t, _ in result.refused] == [theirs.id]
    assert sorted(mine[1].tags.values_list("name", flat=True)) == ["Price", "Support"]
    assert not theirs.tags.exists() and not Tag.objects.filter(brand=brand_b).exists()
