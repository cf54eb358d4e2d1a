"""Which testimonials a widget shows, in which order."""

from __future__ import annotations

import pytest
from django.utils import timezone

from testimonials.models import MediaAsset, Testimonial, Widget, WidgetPick
from testimonials.selectors import rating_summary_for_brand, testimonial_list_for_widget
from tests.factories import CollectionFormFactory, TagFactory, TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db


def _aged(brand, name, days, **kwargs):
    return TestimonialFactory(
        brand=brand, author_name=name, created_at=timezone.now() - timezone.timedelta(days=days), **kwargs
    )


def _names(widget):
    return [t.author_name for t in testimonial_list_for_widget(widget=widget)]


def test_it_shows_only_the_brands_approved_testimonials(brand_a, brand_b):
    _aged(brand_a, "shown", 1)
    _aged(brand_a, "pending", 1, state=Testimonial.State.PENDING_REVIEW)
    _aged(brand_a, "rejected", 1, state=Testimonial.State.REJECTED)
    _aged(brand_b, "other brand", 1)
    assert _names(WidgetFactory(brand=brand_a)) == ["shown"]


def test_it_orders_newest_first_or_featured_first(brand_a):
    _aged(brand_a, "old featured", 5, featured=True)
    _aged(brand_a, "new", 1)
    _aged(brand_a, "middle", 3)
    assert _names(WidgetFactory(brand=brand_a, order=Widget.Order.NEWEST)) == ["new", "middle", "old featured"]
    assert _names(WidgetFactory(brand=brand_a, order=Widget.Order.FEATURED)) == ["old featured", "new", "middle"]


def test_it_keeps_hand_picks_in_pinned_order_and_skips_unpublished_picks(brand_a):
    first, second, third = _aged(brand_a, "a", 1), _aged(brand_a, "b", 2), _aged(brand_a, "c", 3)
    hidden = _aged(brand_a, "unpublished", 1, state=Testimonial.State.REJECTED)
    _aged(brand_a, "not picked", 1)
    widget = WidgetFactory(brand=brand_a, selection=Widget.Selection.MANUAL, order=Widget.Order.MANUAL)
    for position, item in enumerate([third, hidden, first, second]):
        WidgetPick.objects.create(widget=widget, testimonial=item, position=position)
    assert _names(widget) == ["c", "a", "b"]
    widget.order = Widget.Order.NEWEST
    assert _names(widget) == ["a", "b", "c"]


def test_it_never_shows_another_brands_testimonial_even_if_picked(brand_a, brand_b):
    theirs = _aged(brand_b, "theirs", 1)
    widget = WidgetFactory(brand=brand_a, selection=Widget.Selection.MANUAL)
    WidgetPick.objects.create(widget=widget, testimonial=theirs, position=0)
    assert _names(widget) == []


def test_it_filters_by_tags_form_language_and_featured(brand_a):
    tag, other_tag = TagFactory(brand=brand_a), TagFactory(brand=brand_a)
    form = CollectionFormFactory(brand=brand_a)
    tagged = _aged(brand_a, "tagged", 1)
    tagged.tags.add(tag, other_tag)
    _aged(brand_a, "untagged", 1)
    _aged(brand_a, "from form", 2, form=form)
    _aged(brand_a, "german", 3, language="de")
    _aged(brand_a, "featured", 4, featured=True)

    by_tag = WidgetFactory(brand=brand_a)
    by_tag.filter_tags.add(tag, other_tag)
    assert _names(by_tag) == ["tagged"]  # once, although it has both tags
    assert _names(WidgetFactory(brand=brand_a, filter_form=form)) == ["from form"]
    assert _names(WidgetFactory(brand=brand_a, filter_language="de")) == ["german"]
    assert _names(WidgetFactory(brand=brand_a, filter_featured=True)) == ["featured"]


def test_it_filters_by_ready_video(brand_a):
    with_video = _aged(brand_a, "video", 1)
    MediaAsset.objects.create(testimonial=with_video, kind=MediaAsset.Kind.VIDEO, status=MediaAsset.Status.READY)
    transcoding = _aged(brand_a, "transcoding", 1)
    MediaAsset.objects.create(testimonial=transcoding, kind=MediaAsset.Kind.VIDEO, status=MediaAsset.Status.PENDING)
    _aged(brand_a, "text only", 1)
    assert _names(WidgetFactory(brand=brand_a, filter_has_video=True)) == ["video"]


def test_it_shows_at_most_max_items(brand_a):
    for n in range(5):
        _aged(brand_a, f"t{n}", n)
    assert _names(WidgetFactory(brand=brand_a, max_items=2, order=Widget.Order.NEWEST)) == ["t0", "t1"]


def test_it_summarises_ratings_over_every_eligible_review_of_the_brand_or_form(brand_a, brand_b):
    form = CollectionFormFactory(brand=brand_a)
    _aged(brand_a, "a", 1, rating=5, form=form)
    _aged(brand_a, "b", 1, rating=2, state=Testimonial.State.PENDING_REVIEW)
    _aged(brand_a, "c", 1, rating=1, state=Testimonial.State.REJECTED)
    _aged(brand_a, "d", 1, rating=1, state=Testimonial.State.PROCESSING)
    _aged(brand_b, "e", 1, rating=1)
    assert rating_summary_for_brand(brand_id=brand_a.id) == {"average": 3.5, "count": 2}
    assert rating_summary_for_brand(brand_id=brand_a.id, form_id=form.id) == {"average": 5.0, "count": 1}
    assert rating_summary_for_brand(brand_id=brand_b.id + 1000) == {"average": None, "count": 0}
