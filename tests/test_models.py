"""Invariants the database itself enforces, and the state machine."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from testimonials.models import Testimonial, Widget
from tests.factories import BrandFactory, CollectionFormFactory, TagFactory, TestimonialFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rating", [0, 6, 100])
def test_it_refuses_a_rating_outside_1_to_5_in_the_database(brand_a, rating):
    with pytest.raises(IntegrityError):
        TestimonialFactory(brand=brand_a, rating=rating)


def test_it_allows_a_testimonial_without_rating(brand_a):
    assert TestimonialFactory(brand=brand_a, rating=None).rating is None


def test_it_refuses_consent_without_its_time(brand_a):
    with pytest.raises(IntegrityError):
        TestimonialFactory(brand=brand_a, consent_given=True, consented_at=None)


def test_it_keeps_form_slugs_unique_per_brand_only(brand_a, brand_b):
    CollectionFormFactory(brand=brand_a, slug="feedback")
    CollectionFormFactory(brand=brand_b, slug="feedback")  # another brand may reuse it
    with pytest.raises(IntegrityError):
        CollectionFormFactory(brand=brand_a, slug="feedback")


def test_it_keeps_tag_slugs_unique_per_brand(brand_a):
    TagFactory(brand=brand_a, slug="video")
    with pytest.raises(IntegrityError):
        TagFactory(brand=brand_a, slug="video")


def test_it_refuses_a_form_whose_minimum_length_exceeds_its_maximum(brand_a):
    with pytest.raises(IntegrityError):
        CollectionFormFactory(brand=brand_a, text_min_length=500, text_max_length=100)


def test_it_only_accepts_https_links_from_customers(brand_a):
    item = TestimonialFactory.build(brand=brand_a, form=None, author_url="javascript:alert(1)")
    with pytest.raises(ValidationError) as err:
        item.full_clean()
    assert "author_url" in err.value.message_dict


def test_it_refuses_a_malformed_accent_colour():
    brand = BrandFactory.build(accent_color="red;}body{")
    with pytest.raises(ValidationError):
        brand.full_clean()


def test_it_gives_every_public_thing_an_unguessable_id(brand_a):
    first, second = TestimonialFactory(brand=brand_a), TestimonialFactory(brand=brand_a)
    assert first.public_id != second.public_id and len(first.public_id) >= 12


def test_it_only_allows_the_state_changes_of_the_pipeline_and_moderation():
    item = Testimonial(state=Testimonial.State.PENDING_REVIEW)
    assert item.can_move_to(Testimonial.State.APPROVED)
    assert not item.can_move_to(Testimonial.State.PROCESSING)
    assert not Testimonial(state=Testimonial.State.APPROVED).can_move_to(Testimonial.State.RECEIVED)


def test_it_counts_every_genuine_review_in_the_rating_summary(brand_a):
    TestimonialFactory(brand=brand_a, rating=5, state=Testimonial.State.APPROVED)
    TestimonialFactory(brand=brand_a, rating=1, state=Testimonial.State.PENDING_REVIEW)
    TestimonialFactory(brand=brand_a, rating=2, state=Testimonial.State.REJECTED)  # spam, removed for content
    ratings = sorted(Testimonial.objects.filter(brand=brand_a).rating_eligible().values_list("rating", flat=True))
    assert ratings == [1, 5]


def test_it_records_consent_time_in_utc(brand_a):
    item = TestimonialFactory(brand=brand_a)
    assert item.consented_at.tzinfo is not None and item.consented_at <= timezone.now()


def test_it_creates_widgets_with_safe_defaults(brand_a):
    widget = Widget.objects.create(brand=brand_a, name="Home")
    # Light by default: a dark OS must not turn a widget navy on a light site.
    assert widget.layout == Widget.Layout.WALL and widget.theme == Widget.Theme.LIGHT and widget.max_items == 12
