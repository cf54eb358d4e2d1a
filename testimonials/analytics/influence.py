"""Reads of the analytics for the Influence page, the testimonial page, the CSV export and the API.

Everything here reads the daily rollups (`DailyRollup`, `HoldoutDaily`), never raw events: a page costs
the same at 10 million events as at 10 thousand (docs/benchmarks.md, "Influence page"). A report is
six queries whatever the brand's size: the days, the (widget, testimonial) sums, the holdout sums, the
widgets' and the shown testimonials' names, and the currency (tests/analytics/test_influence_selectors.py
holds the count).

Each event adds to exactly one rollup row (impressions and wall clicks to the widget's own row, the rest
to the testimonial's), so event counters add up over every row. Conversions are credited to several
rows: any-touch to every testimonial viewed and every widget seen, last-touch to the last testimonial
viewed and the last widget seen. So conversions are counted from the last-touch columns, once each:
the widget rows' for "visitors who saw a widget", the testimonial rows' for "after viewing a testimonial".
The widget rows' visitors and converters are the baseline of every testimonial in the widget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from testimonials.analytics import estimates
from testimonials.analytics.models import BrandAnalytics, DailyRollup, HoldoutDaily
from testimonials.errors import ApplicationError
from testimonials.models import Brand, Testimonial, Widget

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 30
CLICK_COLUMNS = ("clicks_author", "clicks_more", "clicks_share")
TESTIMONIAL_COLUMNS = (
    "views", "plays", "q25", "q50", "q75", "completions", *CLICK_COLUMNS, "visitors", "converters",
    "conversions_any", "value_any", "conversions_last", "value_last",
)  # fmt: skip
WIDGET_COLUMNS = ("impressions", "clicks_wall", "visitors", "converters", "conversions_last", "value_last")
DAY_COUNTERS = ("impressions", "views", "plays", "clicks", "conversions", "conversions_viewed")
# The table's sort keys: what a person may order testimonials by (never by rating: nothing here reads it).
SORTS = {
    "views": "views",
    "plays": "plays",
    "completion": "completion_rate",
    "clicks": "clicks",
    "conversions_any": "conversions_any",
    "conversions_last": "conversions_last",
    "value": "value_any",
    "influence": "influence_sort",
}
DEFAULT_SORT = "-views"


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def date_range_parse(*, start: str | None, end: str | None, today: date | None = None) -> DateRange:
    """The range a person asked for (ISO dates, both ends included), or the last 30 days.

    Raises ApplicationError for a malformed date, an end before the start, or more than a year.
    """
    try:
        start_day = date.fromisoformat(start) if start else None
        end_day = date.fromisoformat(end) if end else None
    except ValueError as exc:
        raise ApplicationError("Give dates as YYYY-MM-DD, e.g. 2026-11-30.") from exc
    return date_range_make(start=start_day, end=end_day, today=today)


def date_range_make(*, start: date | None, end: date | None, today: date | None = None) -> DateRange:
    """A checked range: the end defaults to today, the start to 30 days before the end."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise ApplicationError(f"Choose dates between {EARLIEST} and {LATEST}.", field=name)
    end = end or today or timezone.localdate()
    start = start or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if end < start:
        raise ApplicationError("The range ends before it starts: swap the dates.", field="end")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise ApplicationError(f"Choose at most {MAX_RANGE_DAYS} days; the daily totals are kept for every day.")
    return DateRange(start, end)


def attribution_days() -> int:
    return settings.ANALYTICS_ATTRIBUTION_DAYS


@dataclass
class Day:
    day: date
    impressions: int = 0
    views: int = 0
    plays: int = 0
    clicks: int = 0
    conversions: int = 0  # conversions of visitors who had seen a widget
    conversions_viewed: int = 0  # of them, after viewing at least one testimonial


@dataclass
class Funnel:
    impressions: int = 0
    views: int = 0
    plays: int = 0
    clicks: int = 0
    conversions: int = 0  # conversions of visitors who had seen a widget, each counted once
    value: Decimal = Decimal(0)


@dataclass
class TestimonialRow:
    """One testimonial's numbers over the range, every widget it appeared in added up."""

    testimonial_id: int
    views: int = 0
    plays: int = 0
    q25: int = 0
    q50: int = 0
    q75: int = 0
    completions: int = 0
    clicks: int = 0
    viewers: int = 0
    viewer_converters: int = 0
    baseline_visitors: int = 0
    baseline_converters: int = 0
    conversions_any: int = 0
    value_any: Decimal = Decimal(0)
    conversions_last: int = 0
    value_last: Decimal = Decimal(0)
    influence: estimates.Comparison | None = None
    testimonial: Testimonial | None = None  # filled for the rows a page shows

    @property
    def completion_rate(self) -> float | None:
        """Completions per play, or None with no play (a text testimonial, or a video nobody started)."""
        return self.completions / self.plays if self.plays else None

    @property
    def influence_sort(self) -> float:
        # Testimonials without enough data sort after every estimate, whichever the direction.
        return self.influence.difference if self.influence and self.influence.enough_data else float("-inf")


@dataclass
class HoldoutRow:
    """A widget's holdout at one setting: shown against held-out visitors, and whether the split drifted."""

    widget_id: int
    percent: int
    shown_visitors: int
    held_visitors: int
    shown_converters: int
    held_converters: int
    lift: estimates.Comparison
    ratio: estimates.SampleRatio
    widget: Widget | None = None


@dataclass
class InfluenceReport:
    brand_ids: list[int] | None
    range: DateRange
    days: list[Day]
    funnel: Funnel
    rows: list[TestimonialRow]
    holdouts: list[HoldoutRow]
    currency: str
    attribution_days: int
    widgets: dict[int, Widget] = field(default_factory=dict)
    min_sample: int = estimates.MIN_SAMPLE


def _in_scope(brand_ids: list[int] | None, *, dates: DateRange, widget_id: int | None = None) -> Q:
    where = Q(day__gte=dates.start, day__lte=dates.end)
    if brand_ids is not None:
        where &= Q(brand_id__in=brand_ids)
    if widget_id is not None:
        where &= Q(widget_id=widget_id)
    return where


def _days(where: Q, dates: DateRange) -> list[Day]:
    """Per-day totals: event counters over every row, conversions once each (see the module's docstring)."""
    is_widget, is_item = Q(testimonial__isnull=True), Q(testimonial__isnull=False)
    sums = (
        DailyRollup.objects.filter(where)
        .values("day")
        .annotate(
            impressions=Sum("impressions"),
            views=Sum("views"),
            plays=Sum("plays"),
            clicks=Sum("clicks_author") + Sum("clicks_more") + Sum("clicks_share") + Sum("clicks_wall"),
            conversions=Sum("conversions_last", filter=is_widget),
            conversions_viewed=Sum("conversions_last", filter=is_item),
        )
        .order_by()
    )
    by_day = {row["day"]: row for row in sums}
    days = []
    for day in dates.days:
        row = by_day.get(day, {})
        days.append(Day(day=day, **{name: row.get(name) or 0 for name in DAY_COUNTERS}))
    return days


def _pairs(where: Q) -> tuple[dict[int, TestimonialRow], dict[int, dict], Decimal]:
    """Sums per (widget, testimonial): testimonial rows add up per testimonial, each measured against the
    widgets it appeared in; widget rows give those widgets' audiences and the funnel's conversion value."""
    columns = sorted(set(TESTIMONIAL_COLUMNS) | set(WIDGET_COLUMNS))
    sums = (
        DailyRollup.objects.filter(where)
        .values("widget_id", "testimonial_id")
        .annotate(**{name: Sum(name) for name in columns})
        .order_by()
    )
    widgets: dict[int, dict] = {}
    per_item: list[dict] = []
    for row in sums:
        if row["testimonial_id"] is None:
            widgets[row["widget_id"]] = row
        else:
            per_item.append(row)
    rows: dict[int, TestimonialRow] = {}
    for pair in per_item:
        item = rows.get(pair["testimonial_id"])
        if item is None:
            item = rows[pair["testimonial_id"]] = TestimonialRow(testimonial_id=pair["testimonial_id"])
        for name in ("views", "plays", "q25", "q50", "q75", "completions", "conversions_any", "conversions_last"):
            setattr(item, name, getattr(item, name) + (pair[name] or 0))
        item.value_any += pair["value_any"] or 0
        item.value_last += pair["value_last"] or 0
        item.clicks += sum(pair[name] or 0 for name in CLICK_COLUMNS)
        viewers, converted = pair["visitors"] or 0, pair["converters"] or 0
        audience = widgets.get(pair["widget_id"], {})
        # The baseline: the widget's visitors who did not view this testimonial. Counts drained in
        # different batches can disagree for a moment; a negative baseline is never shown.
        item.viewers += viewers
        item.viewer_converters += min(converted, viewers)
        item.baseline_visitors += max((audience.get("visitors") or 0) - viewers, 0)
        item.baseline_converters += max((audience.get("converters") or 0) - converted, 0)
    value = sum((w["value_last"] or Decimal(0) for w in widgets.values()), Decimal(0))
    for item in rows.values():
        item.baseline_converters = min(item.baseline_converters, item.baseline_visitors)
    return rows, widgets, value


def estimate(rows: list[TestimonialRow]) -> None:
    """Each row's influence, from its counts (the estimator costs microseconds a row: a page estimates
    the rows it shows, and every row only when it sorts by influence or exports them all)."""
    for item in rows:
        if item.influence is None:
            item.influence = estimates.compare(
                exposed_conversions=item.viewer_converters,
                exposed_visitors=item.viewers,
                baseline_conversions=item.baseline_converters,
                baseline_visitors=item.baseline_visitors,
            )


def _holdouts(where: Q) -> list[HoldoutRow]:
    sums = (
        HoldoutDaily.objects.filter(where)
        .values("widget_id", "percent")
        .annotate(
            shown=Sum("shown_visitors"),
            held=Sum("held_visitors"),
            shown_conv=Sum("shown_converters"),
            held_conv=Sum("held_converters"),
        )
        .order_by("widget_id", "percent")
    )
    rows = []
    for row in sums:
        if not row["percent"]:
            continue  # no holdout at that setting: nothing to compare
        shown, held = row["shown"] or 0, row["held"] or 0
        shown_conv, held_conv = min(row["shown_conv"] or 0, shown), min(row["held_conv"] or 0, held)
        rows.append(
            HoldoutRow(
                widget_id=row["widget_id"],
                percent=row["percent"],
                shown_visitors=shown,
                held_visitors=held,
                shown_converters=shown_conv,
                held_converters=held_conv,
                lift=estimates.holdout_lift(
                    shown=shown, shown_conversions=shown_conv, held_out=held, held_out_conversions=held_conv
                ),
                ratio=estimates.sample_ratio_mismatch(shown=shown, held_out=held, holdout_share=row["percent"] / 100),
            )
        )
    return rows


def sort_rows(rows: list[TestimonialRow], order: str) -> list[TestimonialRow]:
    """Rows in the order asked for ("views", "-influence", ...); an unknown key raises ApplicationError."""
    descending = order.startswith("-")
    key = order.lstrip("-")
    if key not in SORTS:
        raise ApplicationError(f"Sort by one of: {', '.join(SORTS)}.")
    attribute = SORTS[key]

    def value(row: TestimonialRow):
        found = getattr(row, attribute)
        if found is None:  # a completion rate with no play sorts last either way
            found = float("-inf") if descending else float("inf")
        if key == "influence" and not descending and found == float("-inf"):
            found = float("inf")
        return (found, -row.testimonial_id if descending else row.testimonial_id)

    return sorted(rows, key=value, reverse=descending)


def influence_report(
    *,
    brand_ids: list[int] | None,
    dates: DateRange,
    widget_id: int | None = None,
    order: str = DEFAULT_SORT,
    names_for: slice | None = slice(None),
) -> InfluenceReport:
    """The Influence page's numbers for `brand_ids` (None: every brand, for superusers) over `dates`.

    Rows are sorted by `order`; the rows of `names_for` (a slice of the sorted rows: the page shown)
    get their Testimonial loaded, in one query, and their influence (every row gets it when the order is
    by influence); `names_for=None` reads no names and estimates nothing (the API's summary).
    """
    where = _in_scope(brand_ids, dates=dates, widget_id=widget_id)
    days = _days(where, dates)
    rows_by_id, widget_sums, value = _pairs(where)
    rows = list(rows_by_id.values())
    if order.lstrip("-") == "influence" or names_for == slice(None):
        estimate(rows)
    rows = sort_rows(rows, order)
    holdouts = _holdouts(where)
    widget_ids = set(widget_sums) | {h.widget_id for h in holdouts}
    widgets = {w.id: w for w in Widget.objects.filter(id__in=widget_ids).only("id", "name", "public_id", "brand_id")}
    for holdout in holdouts:
        holdout.widget = widgets.get(holdout.widget_id)
    if names_for is not None:
        rows_prepare(rows[names_for])
    funnel = Funnel(
        impressions=sum(d.impressions for d in days),
        views=sum(d.views for d in days),
        plays=sum(d.plays for d in days),
        clicks=sum(d.clicks for d in days),
        conversions=sum(d.conversions for d in days),
        value=value,
    )
    return InfluenceReport(
        brand_ids=brand_ids,
        range=dates,
        days=days,
        funnel=funnel,
        rows=rows,
        holdouts=holdouts,
        currency=currency_for(brand_ids),
        attribution_days=attribution_days(),
        widgets=widgets,
    )


def rows_prepare(rows: list[TestimonialRow]) -> None:
    """What a shown row needs: its influence, and its testimonial (one query for the rows lacking it)."""
    estimate(rows)
    wanted = [row.testimonial_id for row in rows if row.testimonial is None]
    if not wanted:
        return
    found = Testimonial.objects.filter(id__in=wanted).only(
        "id", "public_id", "brand_id", "author_name", "text", "public_text", "state"
    )
    by_id = {t.id: t for t in found}
    for row in rows:
        if row.testimonial is None:
            row.testimonial = by_id.get(row.testimonial_id)


def currency_for(brand_ids: list[int] | None) -> str:
    """The reporting currency when the report covers one brand; "" when brands may differ."""
    if brand_ids is None or len(brand_ids) != 1:
        return ""
    found = BrandAnalytics.objects.filter(brand_id=brand_ids[0]).values_list("currency", flat=True).first()
    return found or BrandAnalytics._meta.get_field("currency").default


def testimonial_influence(*, testimonial: Testimonial, dates: DateRange) -> TestimonialRow:
    """One testimonial's numbers over `dates`, measured like the Influence page's table row (one query)."""
    where = _in_scope([testimonial.brand_id], dates=dates)
    widget_ids = (
        DailyRollup.objects.filter(where, testimonial_id=testimonial.id).values("widget_id").distinct().order_by()
    )
    pairs = where & Q(widget_id__in=widget_ids) & (Q(testimonial_id=testimonial.id) | Q(testimonial__isnull=True))
    rows, _, _ = _pairs(pairs)
    row = rows.get(testimonial.id) or TestimonialRow(testimonial_id=testimonial.id)
    estimate([row])
    row.testimonial = testimonial
    return row


def brand_ids_for_report(*, allowed: list[int] | None, chosen: str | None) -> list[int] | None:
    """The brands a report covers: the chosen one when the user may see it, else all the user's."""
    if chosen and chosen.isdigit() and (allowed is None or int(chosen) in allowed):
        if allowed is None and not Brand.objects.filter(id=int(chosen)).exists():
            return allowed
        return [int(chosen)]
    return allowed
