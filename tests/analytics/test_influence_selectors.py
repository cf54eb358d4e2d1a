"""The Influence reads: sums over the range, the baseline per widget, sorting, scope, query counts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from testimonials.analytics import estimates
from testimonials.analytics.influence import (
    DateRange,
    date_range_parse,
    influence_report,
    sort_rows,
    testimonial_influence,
)
from testimonials.errors import ApplicationError
from testimonials.models import Testimonial
from tests.analytics.influence_data import DAY, holdout_day, item_day, widget_day
from tests.factories import TestimonialFactory, WidgetFactory

RANGE = DateRange(DAY - timedelta(days=6), DAY)


@pytest.fixture
def shop(brand_a, form_a):
    """Brand A's widget with two testimonials: Ada, viewed by many who convert, and Ben, viewed by few."""
    widget = WidgetFactory(brand=brand_a, name="Home page")
    ada = TestimonialFactory(brand=brand_a, form=form_a, author_name="Ada", state=Testimonial.State.APPROVED)
    ben = TestimonialFactory(brand=brand_a, form=form_a, author_name="Ben", rating=1)
    widget_day(widget, impressions=5000, clicks_wall=7, visitors=3000, converters=150, conversions_any=160,
               conversions_last=160, value_any=Decimal("4000.00"), value_last=Decimal("4000.00"))  # fmt: skip
    widget_day(
        widget,
        DAY - timedelta(days=1),
        impressions=1000,
        visitors=600,
        converters=30,
        conversions_any=30,
        conversions_last=30,
    )
    item_day(widget, ada, views=1500, plays=300, q25=250, q50=200, q75=150, completions=120, clicks_author=5,
             clicks_more=10, clicks_share=3, visitors=1000, converters=80, conversions_any=85, value_any="2100.50",
             conversions_last=60, value_last="1500.00")  # fmt: skip
    item_day(widget, ben, views=120, visitors=100, converters=5, conversions_any=5, conversions_last=2)
    return widget, ada, ben


def test_it_adds_up_the_range_and_compares_viewers_with_the_rest_of_the_widget(shop):
    widget, ada, ben = shop
    report = influence_report(brand_ids=[widget.brand_id], dates=RANGE)
    rows = {row.testimonial_id: row for row in report.rows}
    row = rows[ada.id]
    assert (row.views, row.plays, row.completions, row.clicks) == (1500, 300, 120, 18)
    assert row.completion_rate == pytest.approx(0.4)
    assert (row.conversions_any, row.conversions_last) == (85, 60)
    assert row.value_any == Decimal("2100.50") and row.value_last == Decimal("1500.00")
    # Baseline: the widget's 3,600 visitors (two days) minus Ada's 1,000; 180 converters minus her 80.
    assert (row.viewers, row.viewer_converters, row.baseline_visitors, row.baseline_converters) == (1000, 80, 2600, 100)
    assert row.influence == estimates.compare(
        exposed_conversions=80, exposed_visitors=1000, baseline_conversions=100, baseline_visitors=2600
    )
    assert row.influence.enough_data and row.influence.probability_better > 0.99
    # Ben has 100 viewers: below the minimum sample, no number.
    assert not rows[ben.id].influence.enough_data
    assert rows[ben.id].completion_rate is None


def test_it_counts_a_low_rated_testimonial_like_any_other(shop):
    widget, _, ben = shop
    assert ben.rating == 1
    report = influence_report(brand_ids=[widget.brand_id], dates=RANGE)
    assert ben.id in {row.testimonial_id for row in report.rows}


def test_it_draws_the_funnel_and_the_days(shop):
    widget, _, _ = shop
    report = influence_report(brand_ids=[widget.brand_id], dates=RANGE)
    funnel = report.funnel
    assert (funnel.impressions, funnel.views, funnel.plays, funnel.clicks, funnel.conversions) == (
        6000, 1620, 300, 25, 190,
    )  # fmt: skip
    assert funnel.value == Decimal("4000.00")
    assert [d.day for d in report.days] == RANGE.days
    last = report.days[-1]
    assert (last.impressions, last.views, last.conversions, last.conversions_viewed) == (5000, 1620, 160, 62)
    assert report.days[0].impressions == 0  # a day without traffic is drawn as zero, not skipped


def test_it_leaves_out_days_outside_the_range_and_other_brands(shop, brand_b):
    widget, ada, _ = shop
    item_day(widget, ada, DAY - timedelta(days=7), views=999)
    other = WidgetFactory(brand=brand_b)
    widget_day(other, impressions=777)
    report = influence_report(brand_ids=[widget.brand_id], dates=RANGE)
    assert report.funnel.impressions == 6000
    assert {row.testimonial_id for row in report.rows} == {ada.id, shop[2].id}
    assert next(r for r in report.rows if r.testimonial_id == ada.id).views == 1500
    assert influence_report(brand_ids=[brand_b.id], dates=RANGE).funnel.impressions == 777


def test_it_measures_a_testimonial_in_each_widget_against_that_widget(brand_a, form_a):
    ada = TestimonialFactory(brand=brand_a, form=form_a)
    home, pricing = WidgetFactory(brand=brand_a), WidgetFactory(brand=brand_a)
    widget_day(home, visitors=1000, converters=50)
    widget_day(pricing, visitors=400, converters=40)
    item_day(home, ada, visitors=300, converters=30)
    item_day(pricing, ada, visitors=100, converters=20)
    row = influence_report(brand_ids=[brand_a.id], dates=RANGE).rows[0]
    assert (row.viewers, row.viewer_converters) == (400, 50)
    assert (row.baseline_visitors, row.baseline_converters) == (700 + 300, 20 + 20)
    one = influence_report(brand_ids=[brand_a.id], dates=RANGE, widget_id=pricing.id).rows[0]
    assert (one.viewers, one.baseline_visitors) == (100, 300)


def test_it_never_shows_a_negative_baseline(brand_a, form_a):
    # Viewers drained before the widget's own row: the counts disagree for a moment.
    ada = TestimonialFactory(brand=brand_a, form=form_a)
    widget = WidgetFactory(brand=brand_a)
    widget_day(widget, visitors=100, converters=1)
    item_day(widget, ada, visitors=300, converters=30)
    row = influence_report(brand_ids=[brand_a.id], dates=RANGE).rows[0]
    assert (row.baseline_visitors, row.baseline_converters) == (0, 0)
    assert not row.influence.enough_data


def test_it_sorts_by_each_column_with_not_enough_data_last(shop):
    widget, ada, ben = shop
    rows = influence_report(brand_ids=[widget.brand_id], dates=RANGE).rows
    assert [r.testimonial_id for r in sort_rows(rows, "-views")] == [ada.id, ben.id]
    assert [r.testimonial_id for r in sort_rows(rows, "views")] == [ben.id, ada.id]
    for order in ("influence", "-influence", "completion", "-completion"):
        assert sort_rows(rows, order)[0].testimonial_id == ada.id, order
    with pytest.raises(ApplicationError, match="Sort by one of"):
        sort_rows(rows, "rating")


def test_it_reads_a_report_in_a_fixed_number_of_queries(shop, brand_a, form_a, django_assert_num_queries):
    widget, _, _ = shop
    for i in range(30):
        other = TestimonialFactory(brand=brand_a, form=form_a)
        item_day(widget, other, views=i, visitors=i)
    holdout_day(widget, percent=5, shown_visitors=950, held_visitors=50)
    # Days, (widget, testimonial) sums, holdout sums, widget names, the page's testimonials, the currency.
    with django_assert_num_queries(6):
        report = influence_report(brand_ids=[brand_a.id], dates=RANGE, names_for=slice(0, 10))
    assert len(report.rows) == 32
    assert all(r.testimonial is not None for r in report.rows[:10])
    assert all(r.testimonial is None for r in report.rows[10:])


def test_it_compares_a_widget_with_its_holdout_and_checks_the_split(brand_a):
    steady, drifting = WidgetFactory(brand=brand_a, name="Steady"), WidgetFactory(brand=brand_a, name="Drifting")
    holdout_day(steady, percent=5, shown_visitors=9500, held_visitors=500, shown_converters=570, held_converters=15)
    holdout_day(drifting, percent=5, shown_visitors=9300, held_visitors=700, shown_converters=500, held_converters=40)
    holdout_day(drifting, DAY - timedelta(days=1), percent=0, shown_visitors=800)  # holdout off that day
    report = influence_report(brand_ids=[brand_a.id], dates=RANGE)
    by_name = {h.widget.name: h for h in report.holdouts}
    assert set(by_name) == {"Steady", "Drifting"}
    assert by_name["Steady"].lift.enough_data and by_name["Steady"].lift.low > 0
    assert not by_name["Steady"].ratio.alarm
    assert by_name["Drifting"].ratio.alarm
    assert by_name["Drifting"].ratio.observed_share == pytest.approx(0.07)


def test_it_measures_one_testimonial_like_its_table_row(shop, django_assert_num_queries):
    widget, ada, _ = shop
    table = {r.testimonial_id: r for r in influence_report(brand_ids=[widget.brand_id], dates=RANGE).rows}
    with django_assert_num_queries(1):
        row = testimonial_influence(testimonial=ada, dates=RANGE)
    assert row.influence == table[ada.id].influence
    assert (row.views, row.conversions_any, row.baseline_visitors) == (1500, 85, 2600)


def test_it_measures_a_testimonial_nobody_saw_as_not_enough_data(brand_a, form_a):
    row = testimonial_influence(testimonial=TestimonialFactory(brand=brand_a, form=form_a), dates=RANGE)
    assert row.views == 0 and not row.influence.enough_data


def test_it_reads_the_range_a_person_asks_for():
    today = date(2026, 12, 5)
    default = date_range_parse(start=None, end=None, today=today)
    assert (default.start, default.end) == (date(2026, 11, 6), today)
    assert len(default.days) == 30
    chosen = date_range_parse(start="2026-01-01", end="2026-01-31", today=today)
    assert len(chosen.days) == 31


@pytest.mark.parametrize(
    "start, end, message",
    [
        ("2026-13-01", None, "YYYY-MM-DD"),
        ("yesterday", None, "YYYY-MM-DD"),
        ("2026-02-01", "2026-01-01", "ends before it starts"),
        ("2024-01-01", "2026-01-01", "at most 366 days"),
    ],
)
def test_it_refuses_a_range_it_cannot_read(start, end, message):
    with pytest.raises(ApplicationError, match=message):
        date_range_parse(start=start, end=end, today=date(2026, 12, 5))
