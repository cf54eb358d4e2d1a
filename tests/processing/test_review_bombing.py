"""Review bombing: reviews the pipeline held for a content reason do not count until a person approves them."""

from __future__ import annotations

import pytest

from testimonials.models import Testimonial, Widget
from testimonials.moderation import flags
from testimonials.processing import pipeline
from testimonials.selectors import rating_summary_for_brand
from testimonials.services.api_keys import api_key_create
from testimonials.services.decisions import testimonial_approve
from testimonials.widgets.render import widget_data
from tests.factories import CollectionFormFactory, TestimonialFactory

pytestmark = pytest.mark.django_db
State = Testimonial.State
MASH = ["asdfghjkl qwertyuiop", "qwerty asdf zxcv lkjh", "zxcvbnm asdfgh", "poiuytrewq lkjhgfdsa", "hjkl asdf qwer"]


@pytest.fixture
def rated(brand_a):
    """Brand A at 4.8 from five approved reviews."""
    form = CollectionFormFactory(brand=brand_a)
    for rating in (5, 5, 5, 5, 4):
        TestimonialFactory(brand=brand_a, form=form, rating=rating, state=State.APPROVED)
    return form


def _bomb(brand, form) -> list[Testimonial]:
    held = []
    for text in MASH:
        item = TestimonialFactory(brand=brand, form=form, rating=1, text=text, state=State.RECEIVED)
        pipeline.testimonial_process(testimonial_id=item.id)
        item.refresh_from_db()
        assert item.state == State.PENDING_REVIEW and "gibberish" in {f["code"] for f in item.flags}
        held.append(item)
    return held


def test_it_keeps_five_held_keyboard_mash_one_star_reviews_out_of_the_public_rating(rated, brand_a, alice, client):
    _bomb(brand_a, rated)
    assert rating_summary_for_brand(brand_id=brand_a.id) == {"average": 4.8, "count": 5}
    widget = Widget.objects.create(
        brand=brand_a, name="Wall", schema_kind=Widget.SchemaKind.PRODUCT, schema_item_name="Kettle"
    )
    data = widget_data(widget)
    assert (data["summary"]["average"], data["summary"]["count"]) == (4.8, 5)
    assert data["jsonld"]["aggregateRating"]["ratingValue"] == 4.8
    assert data["jsonld"]["aggregateRating"]["reviewCount"] == 5
    key = api_key_create(brand=brand_a, actor=alice, name="CRM")[1]
    api = client.get("/api/v1/summary/", {"brand": brand_a.slug}, HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert (api["average"], api["count"], api["distribution"]["1"]) == (4.8, 5, 0)


def test_it_counts_a_held_review_once_a_person_approves_it(rated, brand_a, alice):
    [first, *_] = _bomb(brand_a, rated)
    testimonial_approve(testimonial=first, actor=alice)
    assert rating_summary_for_brand(brand_id=brand_a.id) == {"average": round(25 / 6, 1), "count": 6}


def test_it_still_counts_a_review_held_only_for_a_rating_and_text_mismatch(rated, brand_a):
    item = TestimonialFactory(
        brand=brand_a, form=rated, rating=5, state=State.RECEIVED,
        text="Terrible, rude staff, broken product, awful experience, the worst shop I have ever used.",
    )  # fmt: skip
    pipeline.testimonial_process(testimonial_id=item.id)
    item.refresh_from_db()
    assert item.state == State.PENDING_REVIEW
    assert {f["code"] for f in item.flags} == {"rating_mismatch"}
    assert rating_summary_for_brand(brand_id=brand_a.id)["count"] == 6  # FTC: never suppressed


def test_it_still_counts_a_review_held_with_no_flag_at_all(brand_a):
    TestimonialFactory(brand=brand_a, rating=1, state=State.PENDING_REVIEW, flags=[])
    assert rating_summary_for_brand(brand_id=brand_a.id) == {"average": 1.0, "count": 1}


@pytest.mark.parametrize("code", [*sorted(set(flags.FLAGS) - flags.RATING_CODES), "an_old_unknown_code"])
def test_every_flag_but_those_that_read_the_rating_holds_a_review_out_of_the_rating(brand_a, code):
    """The content flags come from the one flag vocabulary, not a second list."""
    TestimonialFactory(brand=brand_a, rating=5, state=State.APPROVED)
    TestimonialFactory(
        brand=brand_a, rating=1, state=State.PENDING_REVIEW,
        flags=[{"code": "rating_mismatch", "reason": "r"}, {"code": code, "reason": "r"}],
    )  # fmt: skip
    assert rating_summary_for_brand(brand_id=brand_a.id) == {"average": 5.0, "count": 1}
