"""Charts for the dashboard, drawn server-side as inline SVG: no CDN, no script, readable without colour."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from testimonials.insights.selectors import TopicTrend
from testimonials.models import Testimonial
from testimonials.moderation import flags as flag_codes
from testimonials.selectors import DashboardStats

State = Testimonial.State
# One colour per state (a test fails when a state has none); flag colours come from moderation/flags.py.
STATE_COLOURS = {
    State.RECEIVED: "#94a3b8",
    State.PROCESSING: "#60a5fa",
    State.PENDING_REVIEW: "#f59e0b",
    State.APPROVED: "#16a34a",
    State.REJECTED: "#dc2626",
    State.FAILED: "#7c3aed",
}
Sentiment = Testimonial.Sentiment
# One colour per sentiment label (a test fails when a label has none); "not scored" is shown, never hidden.
SENTIMENT_COLOURS = {
    Sentiment.POSITIVE: "#16a34a",
    Sentiment.NEUTRAL: "#94a3b8",
    Sentiment.NEGATIVE: "#dc2626",
    Sentiment.UNSCORED: "#a78bfa",
}
PRAISE_COLOUR, COMPLAINT_COLOUR = "#16a34a", "#dc2626"
BAR_COLOUR = "#4f46e5"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    colour: str = BAR_COLOUR


def bar_chart(bars: list[Bar], *, title: str, width: int = 420, row: int = 26) -> SafeString:
    """Horizontal bars with their labels and values written out (screen readers read the table-like text)."""
    label_w, value_w = 150, 60
    top = max((b.value for b in bars), default=0) or 1
    plot = width - label_w - value_w
    height = row * max(len(bars), 1) + 4
    rows = []
    for i, bar in enumerate(bars):
        y = i * row + 2
        rows.append(
            (
                f"{y + row * 0.65:.1f}",
                bar.label[:24],
                label_w,
                y + 4,
                max(round(plot * bar.value / top), 1 if bar.value else 0),
                row - 8,
                bar.colour,
                label_w + plot + 6,
                f"{y + row * 0.65:.1f}",
                bar.value,
            )
        )
    body = format_html_join(
        "",
        '<text x="0" y="{}" class="label">{}</text><rect x="{}" y="{}" width="{}" height="{}" fill="{}" rx="3">'
        '</rect><text x="{}" y="{}" class="value">{}</text>',
        rows,
    )
    return format_html(
        '<svg class="vouch-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}">'
        "<title>{}</title>{}</svg>",
        title,
        width,
        height,
        width,
        height,
        title,
        body,
    )


def stacked_columns(weeks: list, *, title: str, width: int = 560, height: int = 180) -> SafeString:
    """One column per week, stacked by sentiment, with the week's start date under every other column."""
    labels = list(SENTIMENT_COLOURS)
    totals = [sum(counts.get(k, 0) for k in labels) for _, counts in weeks]
    top = max(totals, default=0) or 1
    plot_h, left, margin = height - 30, 30, 20  # the legend sits in the top margin, above the columns
    step = (width - left) / max(len(weeks), 1)
    parts = []
    for i, (week, counts) in enumerate(weeks):
        x, y = left + i * step + 2, plot_h
        for key in labels:
            value = counts.get(key, 0)
            h = (plot_h - margin) * value / top
            if value:
                y -= h
                parts.append(
                    format_html(
                        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {} {}</title></rect>',
                        f"{x:.1f}",
                        f"{y:.1f}",
                        f"{step - 4:.1f}",
                        f"{h:.1f}",
                        SENTIMENT_COLOURS[key],
                        week.isoformat(),
                        value,
                        Sentiment(key).label.lower(),
                    )
                )
        if i % 2 == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" class="tick">{}</text>', f"{x:.1f}", height - 8, week.strftime("%d %b")
                )
            )
    axis = format_html(
        '<text x="0" y="{}" class="tick">{}</text><text x="0" y="{}" class="tick">0</text>', margin + 8, top, plot_h
    )
    legend = format_html_join(
        "",
        '<tspan fill="{}">■</tspan> {} ',
        ((SENTIMENT_COLOURS[k], Sentiment(k).label.lower()) for k in labels),
    )
    return format_html(
        '<svg class="vouch-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}">'
        '<title>{}</title>{}{}<text x="{}" y="12" class="legend">{}</text></svg>',
        title,
        width,
        height + 4,
        width,
        height + 4,
        title,
        axis,
        format_html_join("", "{}", ((p,) for p in parts)),
        left,
        legend,
    )


def sparkline(values: list[int], *, colour: str, title: str, width: int = 120, height: int = 28) -> SafeString:
    """A week-by-week line, its numbers in the title and label for screen readers."""
    top = max(values, default=0) or 1
    step = (width - 4) / max(len(values) - 1, 1)
    points = " ".join(f"{2 + i * step:.1f},{height - 3 - (height - 6) * v / top:.1f}" for i, v in enumerate(values))
    described = f"{title}: " + ", ".join(str(v) for v in values)
    return format_html(
        '<svg class="vouch-spark" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}">'
        '<title>{}</title><polyline points="{}" fill="none" stroke="{}" stroke-width="2"></polyline></svg>',
        described,
        width,
        height,
        width,
        height,
        described,
        points,
        colour,
    )


def topic_trends(trends: list[TopicTrend]) -> list[dict]:
    """What the dashboard shows of each praise or complaint topic: its count, trend line and change."""
    shown = []
    for trend in trends:
        colour = PRAISE_COLOUR if trend.polarity == Sentiment.POSITIVE else COMPLAINT_COLOUR
        change = trend.change
        shown.append(
            {
                "trend": trend,
                "sparkline": sparkline(trend.weekly, colour=colour, title=f"{trend.label}, testimonials per week"),
                "change": f"{change:+d}" if change else "steady",
            }
        )
    return shown


def charts(stats: DashboardStats) -> dict[str, SafeString]:
    return {
        "states": bar_chart(
            [Bar(label, stats.by_state.get(value, 0), STATE_COLOURS[value]) for value, label in State.choices],
            title="Testimonials by state",
        ),
        "ratings": bar_chart(
            [Bar("★" * r, stats.rating_distribution[r], "#f59e0b") for r in range(5, 0, -1)],
            title="Rating distribution (every eligible review)",
        ),
        "sentiment": stacked_columns(stats.sentiment_by_week, title="Sentiment per week"),
        "forms": bar_chart([Bar(name, n) for name, n in stats.per_form], title="Submissions per form"),
        "moderation": bar_chart(
            [Bar(label, n, "#0ea5e9") for label, n in stats.moderation_buckets.items()],
            title="Time from submission to decision",
        ),
        "flags": bar_chart(
            [Bar(flag_codes.label(code), n, flag_codes.colour(code)) for code, n in stats.flags.items()],
            title="Why testimonials were flagged",
        ),
    }


def duration_text(value: timedelta | None) -> str:
    """An average a person reads at a glance: "3 min", "14.0 h", "2.5 days"."""
    if value is None:
        return "no decisions yet"
    seconds = value.total_seconds()
    if seconds < 3600:
        return f"{max(seconds / 60, 0):.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


# Sections other packages add to the dashboard (invitations' funnel): render(request, brand_ids) returns
# inline HTML, or "" when it has nothing to show. Registered from the package's admin module, so the
# core dashboard never imports them.
_PANELS: dict[str, Callable] = {}


def register_panel(name: str, render: Callable) -> None:
    _PANELS[name] = render


def panels(request, brand_ids: list[int] | None) -> list[SafeString]:
    rendered = (render(request, brand_ids) for _, render in sorted(_PANELS.items()))
    return [html for html in rendered if html]


# Pages other packages add beside the dashboard (analytics' Influence page): view(model_admin, request)
# is served at admin/testimonials/testimonial/<route> as admin:testimonials_testimonial_<name>, behind
# the admin's login, with the moderation admin's context. Registered from the package's admin module.
_PAGES: dict[str, tuple[str, Callable]] = {}


def register_page(name: str, route: str, view: Callable) -> None:
    _PAGES[name] = (route, view)


def pages() -> list[tuple[str, str, Callable]]:
    return [(name, route, view) for name, (route, view) in sorted(_PAGES.items())]


# Sections other packages add to a testimonial's own page (analytics' numbers): render(request, testimonial)
# returns inline HTML, or "" when it has nothing to show; shown to everyone who may see the testimonial.
_CHANGE_PANELS: dict[str, Callable] = {}


def register_change_panel(name: str, render: Callable) -> None:
    _CHANGE_PANELS[name] = render


def change_panels(request, testimonial) -> list[SafeString]:
    rendered = (render(request, testimonial) for _, render in sorted(_CHANGE_PANELS.items()))
    return [html for html in rendered if html]
