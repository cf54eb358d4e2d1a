"""The Influence page in the admin, its CSV export, the testimonial page's numbers and the dashboard's link.

Scoped per brand like every admin page: members of any role read it (viewers included), a brand the
user is not a member of is 404, and "all my brands" adds up only the user's own.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from testimonials.admin.dashboard import register_change_panel, register_page, register_panel
from testimonials.admin.scoping import roles_for, scope
from testimonials.analytics import charts, estimates, exports
from testimonials.analytics.influence import (
    DEFAULT_SORT,
    SORTS,
    HoldoutRow,
    InfluenceReport,
    TestimonialRow,
    date_range_parse,
    influence_report,
    rows_prepare,
    testimonial_influence,
)
from testimonials.errors import ApplicationError
from testimonials.models import Brand, Widget

PER_PAGE = 50
PANEL_COUNTS = ("views", "plays", "clicks", "conversions_any", "conversions_last", "viewers", "viewer_converters",
                "baseline_visitors")  # fmt: skip
# The table's columns: (sort key or None, heading, what it counts).
COLUMNS = [
    (None, "Testimonial", ""),
    ("views", "Views", "Seen: at least half on screen for 1 s (2 s for a video)"),
    ("plays", "Plays", "Video plays"),
    ("completion", "Completion", "Plays watched to the end"),
    ("clicks", "Clicks", "Author link, read more and share clicks"),
    ("conversions_any", "Conv. (any)", "Conversions of visitors who had viewed it (any-touch)"),
    ("conversions_last", "Conv. (last)", "Conversions where it was the last testimonial viewed (last-touch)"),
    ("value", "Value (any)", "Value of the any-touch conversions"),
    ("influence", "Influence", "Conversion rate of its viewers minus that of the widget's other visitors"),
]


class Choices:
    """What the person asked for in the query string, checked against what they may see."""

    def __init__(self, request, *, today=None):
        self.problems: list[str] = []
        roles = roles_for(request)
        if not roles.any():
            raise PermissionDenied
        self.brands = list(scope(Brand.objects.order_by("name"), request, path="pk").values_list("id", "name"))
        chosen = request.GET.get("brand", "")
        if chosen:
            if not (chosen.isdigit() and any(b == int(chosen) for b, _ in self.brands)):
                raise Http404("No such brand among yours.")
            self.brand_ids: list[int] | None = [int(chosen)]
        else:
            self.brand_ids = roles.brand_ids()
            if len(self.brands) == 1:  # the only brand (a superuser's demo too): its currency applies
                self.brand_ids = [self.brands[0][0]]
        self.chosen = chosen
        widgets = scope(Widget.objects.order_by("name"), request)
        if self.brand_ids is not None:
            widgets = widgets.filter(brand_id__in=self.brand_ids)
        self.widgets = list(widgets.values_list("id", "name"))
        wanted_widget = request.GET.get("widget", "")
        self.widget_id: int | None = None
        if wanted_widget:
            if not (wanted_widget.isdigit() and any(w == int(wanted_widget) for w, _ in self.widgets)):
                raise Http404("No such widget among yours.")
            self.widget_id = int(wanted_widget)
        try:
            self.dates = date_range_parse(start=request.GET.get("start"), end=request.GET.get("end"), today=today)
        except ApplicationError as exc:
            self.problems.append(exc.message)
            self.dates = date_range_parse(start=None, end=None, today=today)
        self.order = request.GET.get("o", DEFAULT_SORT)
        if self.order.lstrip("-") not in SORTS:
            self.problems.append(f"Sort by one of: {', '.join(SORTS)}.")
            self.order = DEFAULT_SORT
        page = request.GET.get("page", "1")
        self.page = int(page) if page.isdigit() and int(page) > 0 else 1

    def query(self, **changes) -> str:
        params = {
            "brand": self.chosen,
            "widget": self.widget_id or "",
            "start": self.dates.start.isoformat(),
            "end": self.dates.end.isoformat(),
            "o": self.order,
            "page": self.page,
        }
        params.update(changes)
        return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})


def percentage(value: float | None) -> str:
    return "\N{EN DASH}" if value is None else f"{value:.0%}" if value >= 0.1 else f"{value:.1%}"


def interval_bar(found: estimates.Comparison, scale: float, *, width: int = 120, height: int = 14) -> SafeString:
    """The interval as a bar around its estimate, beside a line at zero: on a shared scale per table."""

    def x(value: float) -> float:
        return width / 2 + (width / 2 - 4) * max(min(value / scale, 1), -1)

    return format_html(
        '<svg class="vouch-interval" role="img" aria-hidden="true" viewBox="0 0 {w} {h}" width="{w}" height="{h}">'
        '<line x1="{z}" y1="0" x2="{z}" y2="{h}" stroke="#888" stroke-dasharray="2 2"></line>'
        '<line x1="{lo}" y1="{m}" x2="{hi}" y2="{m}" stroke="#333" stroke-width="2"></line>'
        '<circle cx="{c}" cy="{m}" r="3.5" fill="#333"></circle></svg>',
        w=width,
        h=height,
        z=f"{x(0):.1f}",
        m=height / 2,
        lo=f"{x(found.low):.1f}",
        hi=f"{x(found.high):.1f}",
        c=f"{x(found.difference):.1f}",
    )


def influence_html(found: estimates.Comparison | None, *, scale: float | None = None) -> SafeString:
    """An estimate with its interval and its chance of beating the baseline, or "not enough data yet"."""
    if found is None or not found.enough_data:
        exposed = found.exposed_visitors if found else 0
        baseline = found.baseline_visitors if found else 0
        return format_html(
            '<span class="vouch-not-enough">{}</span> <small>({} and {} visitors; {} each needed)</small>',
            estimates.NOT_ENOUGH_DATA,
            exposed,
            baseline,
            found.min_sample if found else estimates.MIN_SAMPLE,
        )
    bound = scale or max(abs(found.low), abs(found.high), 1e-9)
    return format_html(
        '{}<strong>{}</strong> <span class="vouch-ci">95% interval {} to {}</span> '
        '<span class="vouch-p">{} likely better</span>',
        interval_bar(found, bound),
        estimates.points(found.difference),
        estimates.points(found.low),
        estimates.points(found.high),
        estimates.percent(found.probability_better),
    )


def _scale(found: list[estimates.Comparison | None]) -> float:
    ends = [abs(v) for f in found if f and f.enough_data for v in (f.low, f.high)]
    return max(ends, default=0) or 1e-9


def table_rows(rows: list[TestimonialRow], currency: str) -> list[dict]:
    scale = _scale([row.influence for row in rows])
    return [
        {
            "testimonial": row.testimonial,
            "testimonial_id": row.testimonial_id,
            "excerpt": exports.excerpt(row),
            "views": f"{row.views:,}",
            "plays": f"{row.plays:,}",
            "completion": percentage(row.completion_rate),
            "clicks": f"{row.clicks:,}",
            "conversions_any": f"{row.conversions_any:,}",
            "conversions_last": f"{row.conversions_last:,}",
            "value": f"{row.value_any:,.2f}" + (f" {currency}" if currency else ""),
            "influence": influence_html(row.influence, scale=scale),
        }
        for row in rows
    ]


def holdout_rows(holdouts: list[HoldoutRow]) -> list[dict]:
    scale = _scale([h.lift for h in holdouts])
    shown = []
    for h in holdouts:
        share = h.ratio.observed_share
        shown.append(
            {
                "widget": h.widget,
                "widget_id": h.widget_id,
                "percent": h.percent,
                "shown_visitors": f"{h.shown_visitors:,}",
                "held_visitors": f"{h.held_visitors:,}",
                "shown_converters": f"{h.shown_converters:,}",
                "held_converters": f"{h.held_converters:,}",
                "lift_html": influence_html(h.lift, scale=scale),
                "ratio": h.ratio,
                "observed": percentage(share) if share is not None else "",
                "p_value": f"{h.ratio.p_value:.2g}",
            }
        )
    return shown


def series(report: InfluenceReport) -> dict:
    days = [d.day for d in report.days]
    return {
        "funnel": charts.funnel(
            [
                charts.Step("Impressions", report.funnel.impressions),
                charts.Step("Views", report.funnel.views),
                charts.Step("Plays", report.funnel.plays),
                charts.Step("Clicks", report.funnel.clicks, of=1),  # clicks happen on viewed testimonials
                charts.Step("Conversions", report.funnel.conversions, of=0),
            ],
            title="From widget impressions to conversions",
        ),
        "seen": charts.line_chart(
            days,
            [
                charts.Series("Impressions", [d.impressions for d in report.days]),
                charts.Series("Views", [d.views for d in report.days]),
            ],
            title="Impressions and testimonial views per day",
        ),
        "engaged": charts.line_chart(
            days,
            [
                charts.Series("Plays", [d.plays for d in report.days]),
                charts.Series("Clicks", [d.clicks for d in report.days]),
            ],
            title="Video plays and clicks per day",
        ),
        "converted": charts.line_chart(
            days,
            [
                charts.Series("Saw a widget", [d.conversions for d in report.days]),
                charts.Series("Viewed a testimonial", [d.conversions_viewed for d in report.days]),
            ],
            title="Conversions per day: of visitors who saw a widget, and of those who viewed a testimonial",
        ),
    }


def influence_view(model_admin, request):
    choices = Choices(request)
    start = (choices.page - 1) * PER_PAGE
    report = influence_report(
        brand_ids=choices.brand_ids,
        dates=choices.dates,
        widget_id=choices.widget_id,
        order=choices.order,
        names_for=slice(start, start + PER_PAGE),
    )
    paginator = Paginator(report.rows, PER_PAGE)
    page = paginator.get_page(choices.page)
    rows_prepare(list(page.object_list))  # a page past the last one shows the last: no query otherwise
    key, descending = choices.order.lstrip("-"), choices.order.startswith("-")
    headings = []
    for sort, label, help_text in COLUMNS:
        if sort is None:
            headings.append({"label": label, "help": help_text})
            continue
        active = sort == key
        # The first click sorts the largest first; a second click on the same column reverses it.
        next_order = sort if active and descending else f"-{sort}"
        headings.append(
            {
                "label": label,
                "help": help_text,
                "url": choices.query(o=next_order, page=1),
                "sorted": ("descending" if descending else "ascending") if active else "",
            }
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Influence",
        "opts": model_admin.model._meta,
        "choices": choices,
        "report": report,
        "charts": series(report),
        "page": page,
        "table": table_rows(list(page.object_list), report.currency),
        "funnel_value": f"{report.funnel.value:,.2f}" + (f" {report.currency}" if report.currency else ""),
        "holdouts": holdout_rows(report.holdouts),
        "headings": headings,
        "export_url": reverse("admin:testimonials_testimonial_influence_export") + choices.query(page=""),
        "page_urls": {
            "previous": choices.query(page=page.previous_page_number()) if page.has_previous() else "",
            "next": choices.query(page=page.next_page_number()) if page.has_next() else "",
        },
        "min_sample": estimates.MIN_SAMPLE,
        "not_enough": estimates.NOT_ENOUGH_DATA,
        "many_brands": len(choices.brands) > 1,
    }
    return TemplateResponse(request, "admin/analytics/influence.html", context)


def influence_export_view(model_admin, request):
    """The table as the page shows it (same brand, widget, range and order), every row."""
    choices = Choices(request)
    if choices.problems:
        return HttpResponseBadRequest(" ".join(choices.problems), content_type="text/plain; charset=utf-8")
    report = influence_report(
        brand_ids=choices.brand_ids, dates=choices.dates, widget_id=choices.widget_id, order=choices.order
    )
    name = f"influence-{choices.dates.start:%Y%m%d}-{choices.dates.end:%Y%m%d}.csv"
    return exports.influence_csv(report, filename=name)


def testimonial_panel(request, testimonial) -> str:
    """The testimonial page's numbers over the last 30 days, measured as on the Influence page."""
    today = timezone.localdate()
    dates = date_range_parse(start=None, end=None, today=today)
    row = testimonial_influence(testimonial=testimonial, dates=dates)
    url = reverse("admin:testimonials_testimonial_influence") + "?" + urlencode({"brand": testimonial.brand_id})
    return render_to_string(
        "admin/analytics/_testimonial_panel.html",
        {
            "row": row,
            "cells": {
                **{name: f"{getattr(row, name):,}" for name in PANEL_COUNTS},
                "completion": percentage(row.completion_rate),
                "influence": influence_html(row.influence),
            },
            "dates": dates,
            "influence_url": url,
            "min_sample": estimates.MIN_SAMPLE,
        },
        request=request,
    )


def dashboard_panel(request, brand_ids) -> str:
    url = reverse("admin:testimonials_testimonial_influence")
    return format_html(
        "<h2>Influence</h2><p>Which testimonials visitors see, watch and click, and how many of them go on to "
        'buy, against visitors who did not see them. <a class="button" href="{}">Open the Influence page</a></p>',
        url,
    )


register_page("influence", "influence/", influence_view)
register_page("influence_export", "influence/export.csv", influence_export_view)
register_change_panel("influence", testimonial_panel)
register_panel("influence", dashboard_panel)
