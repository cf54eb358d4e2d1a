"""The ingest worker: raw events, rollups, unique visitors and attribution, idempotent on replays."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from testimonials.analytics import keys, services
from testimonials.analytics.buffer import get_buffer
from testimonials.analytics.models import (
    BrandAnalytics,
    Conversion,
    DailyRollup,
    Event,
    Exposure,
    ReferralDaily,
    VisitorSalt,
)
from tests.analytics.conftest import drain


def rollup(widget, testimonial=None) -> DailyRollup:
    return DailyRollup.objects.get(widget=widget, testimonial=testimonial)


def test_it_rolls_up_what_a_visitor_did(beacons, widget_a, cards):
    t0, t1 = cards[0].public_id, cards[1].public_id
    e = beacons.eid
    beacons.frame([[e(), "imp"], [e(), "view", t0], [e(), "view", t1], [e(), "play", t1], [e(), "q25", t1],
                   [e(), "q50", t1], [e(), "q75", t1], [e(), "done", t1], [e(), "c_author", t0], [e(), "c_more", t0],
                   [e(), "c_share", t1], [e(), "c_wall"]])  # fmt: skip
    drain()
    assert Event.objects.count() == 12
    whole = rollup(widget_a)
    assert (whole.impressions, whole.clicks_wall, whole.visitors) == (1, 1, 1)
    first, second = rollup(widget_a, cards[0]), rollup(widget_a, cards[1])
    assert (first.views, first.clicks_author, first.clicks_more, first.visitors) == (1, 1, 1, 1)
    assert (second.views, second.plays, second.q25, second.q50, second.q75, second.completions) == (1, 1, 1, 1, 1, 1)
    assert second.clicks_share == 1
    assert not DailyRollup.objects.filter(testimonial=cards[2]).exists()


def test_it_counts_a_replayed_batch_once(beacons, widget_a, cards):
    batch = [["replay-0001", "imp"], ["replay-0002", "view", cards[0].public_id]]
    for _ in range(3):
        assert beacons.frame(batch).status_code == 204
    drain()
    beacons.frame(batch)
    drain()
    assert Event.objects.count() == 2
    assert rollup(widget_a).impressions == 1
    assert rollup(widget_a, cards[0]).views == 1


def test_it_counts_an_entry_drained_twice_once(beacons, widget_a, cards):
    # A worker killed after its commit and before the ack: the buffer hands the entries out again.
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", cards[0].public_id]])
    entries = get_buffer().claim(consumer="w1", count=10)
    services.ingest_records([e.data for e in entries])
    services.ingest_records([e.data for e in entries])
    get_buffer().ack(entries)
    assert rollup(widget_a).impressions == 1
    assert rollup(widget_a, cards[0]).views == 1
    assert rollup(widget_a, cards[0]).visitors == 1


def test_it_counts_unique_visitors_per_window(beacons, widget_a, cards):
    t0 = cards[0].public_id
    for _ in range(3):
        beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", t0]], ip="203.0.113.1")
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", t0]], ip="203.0.113.2")
    beacons.frame([[beacons.eid(), "imp"]], ip="203.0.113.3")
    drain()
    whole, first = rollup(widget_a), rollup(widget_a, cards[0])
    assert (whole.impressions, whole.visitors) == (5, 3)
    assert (first.views, first.visitors) == (4, 2)


def test_it_drops_events_naming_another_brands_testimonial(beacons, widget_a, brand_b):
    from tests.factories import TestimonialFactory

    foreign = TestimonialFactory(brand=brand_b)
    beacons.frame([[beacons.eid(), "view", foreign.public_id], [beacons.eid(), "imp"]])
    drain()
    assert list(Event.objects.values_list("kind", flat=True)) == ["imp"]
    assert not DailyRollup.objects.filter(testimonial=foreign).exists()


def test_it_attributes_a_conversion_to_every_testimonial_seen_and_to_the_last_one(beacons, widget_a, cards):
    BrandAnalytics.objects.create(brand=widget_a.brand, currency="EUR")
    t0, t1 = cards[0].public_id, cards[1].public_id
    visitor = "203.0.113.50"
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", t0]], ip=visitor)
    drain()
    beacons.frame([[beacons.eid(), "view", t1]], ip=visitor)
    drain()
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", t0]], ip="203.0.113.51")  # never converts
    beacons.host([[beacons.eid(), "convert", "", 49, "EUR", "order-123"]], ip=visitor)
    drain()
    first, second, whole = rollup(widget_a, cards[0]), rollup(widget_a, cards[1]), rollup(widget_a)
    assert (first.conversions_any, first.value_any, first.conversions_last) == (1, Decimal("49.00"), 0)
    assert (second.conversions_any, second.conversions_last, second.value_last) == (1, 1, Decimal("49.00"))
    assert (first.visitors, first.converters) == (2, 1)
    assert (second.visitors, second.converters) == (1, 1)
    assert (whole.visitors, whole.converters, whole.conversions_any) == (2, 1, 1)
    conversion = Conversion.objects.get()
    assert (conversion.testimonials_seen, conversion.last_testimonial_id) == (2, cards[1].id)


def test_it_counts_an_order_once_however_often_it_is_reported(beacons, widget_a, cards):
    visitor = "203.0.113.60"
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", cards[0].public_id]], ip=visitor)
    drain()
    for _ in range(3):  # the thank-you page reloaded: a new event id each time, the same order id
        beacons.host([[beacons.eid(), "convert", "", 20, "EUR", "order-7"]], ip=visitor)
    drain()
    beacons.host([[beacons.eid(), "convert", "", 20, "EUR", "order-7"]], ip="203.0.113.99")
    drain()
    assert Conversion.objects.count() == 1
    first = rollup(widget_a, cards[0])
    assert (first.conversions_any, first.converters, first.value_any) == (1, 1, Decimal("20.00"))


def test_it_counts_a_second_order_but_not_a_second_converter(beacons, widget_a, cards):
    visitor = "203.0.113.61"
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", cards[0].public_id]], ip=visitor)
    drain()
    beacons.host([[beacons.eid(), "convert", "", 10, "", "a-1"]], ip=visitor)
    beacons.host([[beacons.eid(), "convert", "", 5, "", "a-2"]], ip=visitor)
    drain()
    first = rollup(widget_a, cards[0])
    assert (first.conversions_any, first.converters, first.value_any) == (2, 1, Decimal("15.00"))


def test_it_credits_no_value_in_another_currency(beacons, widget_a, cards):
    visitor = "203.0.113.62"
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", cards[0].public_id]], ip=visitor)
    drain()
    beacons.host([[beacons.eid(), "convert", "", 5000, "JPY", "j-1"]], ip=visitor)
    drain()
    first = rollup(widget_a, cards[0])
    assert (first.conversions_any, first.value_any) == (1, Decimal("0.00"))
    assert Conversion.objects.get().value == Decimal("5000.00")


def test_it_does_not_credit_a_testimonial_seen_after_the_conversion(beacons, widget_a, cards):
    visitor = "203.0.113.63"
    beacons.host([[beacons.eid(), "convert", "", 5, "", "late-1"]], ip=visitor)
    drain()
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", cards[0].public_id]], ip=visitor)
    drain()
    assert rollup(widget_a, cards[0]).conversions_any == 0
    assert Conversion.objects.get().testimonials_seen == 0


def test_it_credits_a_referral_arrival_and_its_conversion(beacons, widget_a, cards):
    visitor = "203.0.113.64"
    code = cards[2].referral_code
    beacons.host([[beacons.eid(), "arrive", code]], ip=visitor)
    beacons.host([[beacons.eid(), "arrive", code]], ip=visitor)
    drain()
    beacons.host([[beacons.eid(), "convert", "", 30, "EUR", "ref-1"]], ip=visitor)
    drain()
    daily = ReferralDaily.objects.get(testimonial=cards[2])
    assert (daily.arrivals, daily.visitors, daily.converters, daily.conversions) == (2, 1, 1, 1)
    assert daily.value == Decimal("30.00")


def test_it_rotates_salts_and_deletes_old_ones_with_every_visitor_key(beacons, widget_a, cards, settings):
    visitor = "203.0.113.70"
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", cards[0].public_id]], ip=visitor)
    beacons.host([[beacons.eid(), "convert", "", 5, "", "rot-1"]], ip=visitor)
    drain()
    old = VisitorSalt.objects.get()
    assert Exposure.objects.filter(salt=old).count() == 2
    later = old.ends_at + services.SALT_GRACE + dt.timedelta(minutes=1)
    assert services.salts_rotate(now=later) == 1
    assert not VisitorSalt.objects.filter(id=old.id).exists()
    assert Exposure.objects.count() == 0
    conversion = Conversion.objects.get()
    assert (conversion.visitor_key, conversion.salt_id) == ("", None)
    # The rollups, which hold no visitor key, stay.
    assert rollup(widget_a, cards[0]).converters == 1
    # The current window's salt and the next one exist; keys made with them differ from the old ones.
    assert VisitorSalt.objects.count() == 2
    current = keys.salt_for(later)
    assert current.secret != bytes(old.secret)


def test_it_keeps_the_current_salt_while_its_window_lasts(db):
    now = timezone.now()
    services.salts_rotate(now=now)
    assert services.salts_rotate(now=now) == 0
    start, end = keys.window_bounds(now)
    assert VisitorSalt.objects.filter(starts_at=start, ends_at=end).exists()


def test_it_makes_windows_of_the_configured_days(settings):
    settings.ANALYTICS_ATTRIBUTION_DAYS = 7
    start, end = keys.window_bounds(dt.datetime(2026, 12, 5, 13, tzinfo=dt.UTC))
    assert end - start == dt.timedelta(days=7)
    assert start <= dt.datetime(2026, 12, 5, 13, tzinfo=dt.UTC) < end


def test_it_counts_events_whose_salt_is_gone_but_links_them_to_no_visitor(beacons, widget_a, cards):
    beacons.frame([[beacons.eid(), "imp"], [beacons.eid(), "view", cards[0].public_id]])
    VisitorSalt.objects.all().delete()  # the window ended while the batch waited in the buffer
    drain()
    assert rollup(widget_a, cards[0]).views == 1
    assert rollup(widget_a, cards[0]).visitors == 0
    assert Exposure.objects.count() == 0


def test_it_purges_raw_events_past_retention_and_keeps_rollups(beacons, widget_a, cards, settings):
    settings.ANALYTICS_RAW_RETENTION_DAYS = 3
    beacons.frame([[beacons.eid(), "imp"]])
    drain()
    assert services.events_purge(now=timezone.now() + dt.timedelta(days=2)) == 0
    assert Event.objects.count() == 1
    services.events_purge(now=timezone.now() + dt.timedelta(days=5))
    assert Event.objects.count() == 0
    assert rollup(widget_a).impressions == 1


def test_it_skips_an_unreadable_buffer_entry_without_stopping(beacons, widget_a):
    beacons.frame([[beacons.eid(), "imp"]])
    entries = get_buffer().claim(consumer="w", count=10)
    result = services.ingest_records([b"garbage", *[e.data for e in entries]])
    assert (result.dropped, result.added) == (1, 1)


def test_it_drains_the_buffer_through_the_service(beacons, widget_a):
    for _ in range(3):
        beacons.frame([[beacons.eid(), "imp"]])
    result = services.analytics_drain()
    assert (result.beacons, result.added) == (3, 3)
    assert get_buffer().pending() == 0
    assert services.analytics_drain().beacons == 0
