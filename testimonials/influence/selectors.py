"""Reads for influence: the counts behind an auto-ordered widget's posteriors, and the reviewers table."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal

from django.db.models import F, Sum
from django.utils import timezone

from testimonials.analytics.models import DailyRollup, ReferralDaily
from testimonials.influence.sampler import Counts
from testimonials.models import Brand, Testimonial, Widget

# The auto order learns from this many recent days of a widget's rollups, so it follows a change of taste.
AUTO_WINDOW_DAYS = 28

# The goal's successes per real view (DailyRollup columns). Conversions by the last-seen rule: each
# conversion is credited once, to the last testimonial the visitor viewed.
GOAL_COLUMNS = {
    Widget.Goal.CLICK: ("clicks_author", "clicks_more", "clicks_share"),
    Widget.Goal.PLAY: ("plays",),
    Widget.Goal.CONVERSION: ("conversions_last",),
}


def _successes(goal: str):
    columns = GOAL_COLUMNS[goal]
    expression = F(columns[0])
    for column in columns[1:]:
        expression = expression + F(column)
    return Sum(expression)


def widget_goal_counts(*, widget: Widget, testimonial_ids: list[int], today=None) -> dict[int, Counts]:
    """Views and goal actions per testimonial in this widget over the last AUTO_WINDOW_DAYS (zero when none)."""
    today = today or timezone.localdate()
    rows = (
        DailyRollup.objects.filter(
            widget_id=widget.id,
            testimonial_id__in=testimonial_ids,
            day__gt=today - timedelta(days=AUTO_WINDOW_DAYS),
        )
        .values("testimonial_id")
        .annotate(views=Sum("views"), successes=_successes(widget.auto_goal))
    )
    found = {row["testimonial_id"]: row for row in rows}
    return {
        tid: Counts(str(tid), int(found.get(tid, {}).get("views") or 0), int(found.get(tid, {}).get("successes") or 0))
        for tid in testimonial_ids
    }


def counts_digest(counts: dict[int, Counts], goal: str) -> str:
    """A short digest of a widget's counts: the refresh republishes only when it moves."""
    text = goal + ";" + ";".join(f"{tid}:{c.views}:{c.successes}" for tid, c in sorted(counts.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def reviewer_influence_list(*, brand: Brand, days: int = 90, today=None) -> list[dict]:
    """Per reviewer whose share link brought anyone in the last `days`: shares clicked (every arrival on
    the brand's site or the public page carrying the code), arrivals (distinct visitors), conversions by
    those visitors within the attribution window, and their value in the brand's reporting currency.

    Sorted by conversions, then arrivals. Only what the code in the URL tells: no cross-site tracking.
    Raises ValueError for a period outside 1 to 3650 days.
    """
    if not 1 <= days <= 3650:
        raise ValueError("days must be between 1 and 3650.")
    today = today or timezone.localdate()
    rows = (
        ReferralDaily.objects.filter(brand=brand, day__gt=today - timedelta(days=days))
        .values("testimonial_id")
        .annotate(clicks=Sum("arrivals"), visitors=Sum("visitors"), conversions=Sum("conversions"), value=Sum("value"))
    )
    rows = {r["testimonial_id"]: r for r in rows}
    # Erased testimonials take their referral rows with them (CASCADE): every row has its reviewer.
    testimonials = Testimonial.objects.filter(brand=brand, id__in=rows).only(
        "id", "public_id", "author_name", "referral_code"
    )
    found = [
        {
            "testimonial": item.public_id,
            "reviewer": item.author_name,
            "referral_code": item.referral_code,
            "shares_clicked": int(rows[item.id]["clicks"] or 0),
            "arrivals": int(rows[item.id]["visitors"] or 0),
            "conversions": int(rows[item.id]["conversions"] or 0),
            "value": Decimal(rows[item.id]["value"] or 0).quantize(Decimal("0.01")),
        }
        for item in testimonials
    ]
    found.sort(key=lambda r: (-r["conversions"], -r["arrivals"], -r["shares_clicked"], r["testimonial"]))
    return found
