"""Rollup rows for the Influence tests, written as the ingest worker would leave them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from testimonials.analytics.models import DailyRollup, HoldoutDaily

DAY = date(2026, 11, 20)


def widget_day(widget, day: date = DAY, **counts) -> DailyRollup:
    """The widget as a whole on a day: impressions, wall clicks, its visitors and their conversions."""
    return DailyRollup.objects.create(brand_id=widget.brand_id, widget=widget, testimonial=None, day=day, **counts)


def item_day(widget, testimonial, day: date = DAY, **counts) -> DailyRollup:
    """One testimonial in a widget on a day."""
    for name in ("value_any", "value_last"):
        if name in counts:
            counts[name] = Decimal(counts[name])
    return DailyRollup.objects.create(
        brand_id=widget.brand_id, widget=widget, testimonial=testimonial, day=day, **counts
    )


def holdout_day(widget, day: date = DAY, *, percent: int, **counts) -> HoldoutDaily:
    return HoldoutDaily.objects.create(brand_id=widget.brand_id, widget=widget, day=day, percent=percent, **counts)
