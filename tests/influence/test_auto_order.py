"""The auto order in published widgets: posteriors from the rollups in the data and the document,
the debounced refresh, and the FTC guard (nothing dropped, the label kept, summaries untouched)."""

import json
import re
from datetime import timedelta
from itertools import product

import pytest
from django.utils import timezone

from testimonials.analytics.models import DailyRollup
from testimonials.influence.models import AutoOrderState
from testimonials.influence.services import auto_widgets_refresh
from testimonials.models import Testimonial, Widget
from testimonials.widgets import files
from testimonials.widgets.render import auto_pool_size, widget_render
from testimonials.widgets.services import widget_publish
from tests.factories import TestimonialFactory, WidgetFactory

pytestmark = pytest.mark.django_db


def _rollup(widget, item, *, views, day=None, **counts):
    return DailyRollup.objects.create(
        brand=widget.brand, widget=widget, testimonial=item, day=day or timezone.localdate(), views=views, **counts
    )


def _auto(brand, **extra):
    return WidgetFactory(brand=brand, order=Widget.Order.AUTO, **extra)


def test_it_publishes_each_testimonials_posterior_from_the_widgets_rollups(brand_a):
    good, plain, new = (TestimonialFactory(brand=brand_a) for _ in range(3))
    widget = _auto(brand_a, auto_goal=Widget.Goal.CONVERSION)
    _rollup(widget, good, views=1000, conversions_last=50, conversions_any=80, clicks_more=300)
    _rollup(widget, plain, views=1000, conversions_last=10)
    # Older than the window, or another widget's: not counted.
    _rollup(widget, plain, views=5000, conversions_last=0, day=timezone.localdate() - timedelta(days=40))
    _rollup(WidgetFactory(brand=brand_a), good, views=9999, conversions_last=0)
    data = widget_render(widget, with_pages=False).data
    by_id = {item["id"]: item["p"] for item in data["items"]}
    # Pooled rate 60 / 2000 = 3 %, prior worth 20 views: alpha0 0.6, beta0 19.4.
    assert by_id[good.public_id] == [50.6, 969.4]
    assert by_id[plain.public_id] == [10.6, 1009.4]
    assert by_id[new.public_id] == [0.6, 19.4]
    assert data["widget"]["auto"] == {"show": 12, "explore": 0.1, "goal": "conversion"}


def test_it_counts_the_goal_the_brand_picked(brand_a):
    item = TestimonialFactory(brand=brand_a)
    widget = _auto(brand_a, auto_goal=Widget.Goal.CLICK)
    _rollup(widget, item, views=100, clicks_author=1, clicks_more=2, clicks_share=3, plays=40, conversions_last=9)
    assert widget_render(widget, with_pages=False).data["items"][0]["p"][0] == pytest.approx(0.06 * 20 + 6, abs=0.01)
    widget.auto_goal = Widget.Goal.PLAY
    assert widget_render(widget, with_pages=False).data["items"][0]["p"][0] == pytest.approx(0.4 * 20 + 40, abs=0.01)


def test_it_writes_the_posteriors_into_the_document_for_the_widgets_script(brand_a):
    featured = TestimonialFactory(brand=brand_a, featured=True)
    TestimonialFactory.create_batch(3, brand=brand_a)
    widget = _auto(brand_a, max_items=2)
    document = widget_render(widget, with_pages=False).document
    assert re.search(r'class="wall" data-auto data-show="2" data-explore="0.1"', document)
    cards = re.findall(r'data-key="([\w-]+)" data-a="([\d.]+)" data-b="([\d.]+)"( data-pin)?', document)
    # The pool is larger than what one view shows: every testimonial gets tried.
    assert len(cards) == 4 == min(4, auto_pool_size(widget))
    assert [key for key, _a, _b, pin in cards if pin] == [featured.public_id]


def test_it_writes_decimals_with_a_dot_in_every_language(brand_a):
    TestimonialFactory(brand=brand_a)
    widget = _auto(brand_a, language="de")
    document = widget_render(widget, with_pages=False).document
    assert re.search(r'data-a="\d+\.\d+"', document) and 'data-explore="0.1"' in document


def test_it_leaves_fixed_orders_without_posteriors(brand_a):
    TestimonialFactory(brand=brand_a)
    widget = WidgetFactory(brand=brand_a, order=Widget.Order.NEWEST)
    rendered = widget_render(widget, with_pages=False)
    assert "data-auto" not in rendered.document and "p" not in rendered.data["items"][0]
    assert rendered.data["widget"]["auto"] is None


def test_it_republishes_auto_widgets_only_when_their_counts_moved(
    brand_a, fake_broker, django_capture_on_commit_callbacks
):
    item = TestimonialFactory(brand=brand_a)
    widget = _auto(brand_a)
    WidgetFactory(brand=brand_a, order=Widget.Order.NEWEST)
    with django_capture_on_commit_callbacks(execute=True):
        assert auto_widgets_refresh() == [widget.id]  # first look: publish with the current counts
    with django_capture_on_commit_callbacks(execute=True):
        assert auto_widgets_refresh() == []  # nothing moved: nothing to publish
    row = _rollup(widget, item, views=10, conversions_last=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert auto_widgets_refresh() == [widget.id]
    DailyRollup.objects.filter(id=row.id).update(views=11)
    with django_capture_on_commit_callbacks(execute=True):
        assert auto_widgets_refresh() == [widget.id]
    assert fake_broker.sent["widget_publish_task"] == [widget.id] * 3
    assert AutoOrderState.objects.get(widget=widget).refreshed_at is not None


# --------------------------------------------------------------------------- the FTC guard


def test_it_drops_nothing_from_a_display_of_every_review_only_the_order_moves(brand_a):
    """Every published review, low ratings included, is in the auto widget's pool; the sampler only
    permutes it (tests/influence/test_sampler.py), so a widget that fits them all shows them all."""
    items = [TestimonialFactory(brand=brand_a, rating=rating) for rating in (1, 2, 3, 4, 5, 1)]
    widget = _auto(brand_a, max_items=12)
    for item in items:  # the low ratings even do "best": the order may favour them, never hide them
        _rollup(widget, item, views=100, conversions_last=10 if item.rating < 3 else 0)
    widget_publish(widget_id=widget.id)
    pointer = files.read_pointer(widget.public_id)
    data = json.loads(files.read(f"widgets/{widget.public_id}/{pointer['data']}"))
    assert {item["id"] for item in data["items"]} == {item.public_id for item in items}
    assert {item["rating"] for item in data["items"]} == {1, 2, 3, 4, 5}


def test_it_keeps_the_selected_testimonials_label_on_a_curated_auto_widget(brand_a):
    TestimonialFactory(brand=brand_a, rating=5)
    TestimonialFactory(brand=brand_a, rating=2)
    widget = _auto(brand_a, min_rating=4)
    rendered = widget_render(widget, with_pages=False)
    assert rendered.data["widget"]["curated"] is True
    assert "Selected testimonials" in rendered.document
    assert "The average of 3.5 counts every review: 2 in all." in rendered.document


def test_it_lets_no_setting_suppress_low_ratings_from_a_rating_summary(brand_a):
    ratings = [5, 5, 4, 1, 2]
    for rating in ratings:
        TestimonialFactory(brand=brand_a, rating=rating)
    TestimonialFactory(brand=brand_a, rating=1, state=Testimonial.State.PENDING_REVIEW)  # counted while waiting
    expected = {"average": round(sum([*ratings, 1]) / 6, 1), "count": 6}
    for order, goal, min_rating, layout in product(
        Widget.Order.values, Widget.Goal.values, [None, 4, 5], [Widget.Layout.WALL, Widget.Layout.BADGE]
    ):
        widget = WidgetFactory.build(
            brand=brand_a, order=order, auto_goal=goal, min_rating=min_rating, layout=layout, max_items=1
        )
        summary = widget_render(widget, with_pages=False).data["summary"]
        assert {k: summary[k] for k in expected} == expected, (order, goal, min_rating, layout)
