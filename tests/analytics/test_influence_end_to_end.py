"""From beacons through the ingest worker to the Influence report: each conversion counted once."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from testimonials.analytics.influence import date_range_make, influence_report
from testimonials.analytics.models import BrandAnalytics
from tests.analytics.conftest import Beacons, drain
from tests.factories import WidgetFactory


def test_it_reports_what_visitors_did_across_two_widgets(client, beacons, widget_a, cards):
    BrandAnalytics.objects.create(brand=widget_a.brand, currency="EUR")
    pricing = Beacons(client, WidgetFactory(brand=widget_a.brand, name="Pricing"))
    pricing.n = 10_000  # event ids are unique per day across widgets: the other helper counts from 1
    t0, t1 = cards[0].public_id, cards[1].public_id
    buyer, browser = "203.0.113.70", "203.0.113.71"
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", t0], [beacons.eid(), "c_more", t0]], ip=buyer)
    drain()
    pricing.frame([[pricing.eid(), "imp"], [pricing.eid(), "view", t1], [pricing.eid(), "c_wall"]], ip=buyer)
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", t0]], ip=browser)
    drain()
    beacons.host([[beacons.eid(), "convert", "", 49, "EUR", "order-1"]], ip=buyer)
    drain()

    today = timezone.now().date()
    report = influence_report(brand_ids=[widget_a.brand_id], dates=date_range_make(start=today, end=today))
    # One conversion, though the buyer saw two widgets (any-touch credits both widgets' rows).
    funnel = report.funnel
    assert (funnel.impressions, funnel.views, funnel.clicks, funnel.conversions) == (3, 3, 2, 1)
    assert funnel.value == Decimal("49.00") and report.currency == "EUR"
    day = report.days[-1]
    assert (day.conversions, day.conversions_viewed) == (1, 1)
    rows = {row.testimonial_id: row for row in report.rows}
    first, second = rows[cards[0].id], rows[cards[1].id]
    # Any-touch credits both testimonials the buyer viewed; last-touch only the last one.
    assert (first.conversions_any, first.conversions_last, first.clicks) == (1, 0, 1)
    assert (second.conversions_any, second.conversions_last, second.value_last) == (1, 1, Decimal("49.00"))
    # t0's viewers (buyer and browser) against the home widget's other visitors (none).
    assert (first.viewers, first.viewer_converters, first.baseline_visitors) == (2, 1, 0)
    assert not first.influence.enough_data
