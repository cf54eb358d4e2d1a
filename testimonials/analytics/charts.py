"""The Influence page's charts, drawn server-side as inline SVG like the dashboard's: no script, no CDN.

Readable without colour: every line has its own dash pattern and marker shape and is named at its end
and in the legend; every point and bar carries a <title> with its date and number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Distinct by more than colour: a dash pattern and a marker each (solid/circle, dashed/square, dotted/triangle).
STYLES = [
    {"colour": "#4f46e5", "dash": "", "marker": "circle"},
    {"colour": "#0f766e", "dash": "6 3", "marker": "square"},
    {"colour": "#b45309", "dash": "2 3", "marker": "triangle"},
]


@dataclass(frozen=True)
class Series:
    label: str
    values: list[int]


@dataclass(frozen=True)
class Step:
    label: str
    value: int
    of: int | None = None  # the index of the step its share is of; default the step above


def _marker(kind: str, x: float, y: float, colour: str, title: str) -> str:
    """One point's marker with its <title>; `title` arrives escaped (markers are many: plain f-strings)."""
    if kind == "square":
        return (
            f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="{colour}"><title>{title}</title></rect>'
        )
    if kind == "triangle":
        points = f"{x:.1f},{y - 4:.1f} {x - 4:.1f},{y + 3:.1f} {x + 4:.1f},{y + 3:.1f}"
        return f'<polygon points="{points}" fill="{colour}"><title>{title}</title></polygon>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{title}</title></circle>'


def _nice_top(value: int) -> int:
    """The axis top: the smallest 1, 2 or 5 x 10^k at or above the largest value."""
    top = max(value, 1)
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= top:
                return step * scale
        scale *= 10


def line_chart(
    days: list[date], series: list[Series], *, title: str, width: int = 640, height: int = 200
) -> SafeString:
    """One line per series over the days, each named at its end; the axis states its top and zero."""
    if len(series) > len(STYLES):
        raise ValueError(f"A chart holds at most {len(STYLES)} lines; split the others into another chart.")
    # Room on the right for the longest end label ("Viewed a testimonial 1,234").
    longest = max((len(s.label) + len(f"{max(s.values, default=0):,}") for s in series), default=0)
    left, right, top_margin, bottom = 44, max(96, 6 * longest + 20), 22, 24
    plot_w, plot_h = width - left - right, height - top_margin - bottom
    top = _nice_top(max((v for s in series for v in s.values), default=0))
    step = plot_w / max(len(days) - 1, 1)

    def xy(i: int, value: int) -> tuple[float, float]:
        return left + i * step, top_margin + plot_h - plot_h * value / top

    parts: list[SafeString] = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" class="axis" stroke="#999"></line>'
            '<text x="{}" y="{}" class="tick" text-anchor="end">{}</text>'
            '<text x="{}" y="{}" class="tick" text-anchor="end">0</text>',
            left,
            top_margin + plot_h,
            left + plot_w,
            top_margin + plot_h,
            left - 4,
            top_margin + 4,
            f"{top:,}",
            left - 4,
            top_margin + plot_h,
        )
    ]
    every = max(len(days) // 6, 1)  # about six date labels, whatever the range
    for i, day in enumerate(days):
        if i % every == 0:
            x, _ = xy(i, 0)
            parts.append(
                format_html(
                    '<text x="{}" y="{}" class="tick" text-anchor="middle">{}</text>',
                    f"{x:.1f}",
                    height - 6,
                    day.strftime("%d %b"),
                )
            )
    used_end_labels: list[float] = []
    for n, line in enumerate(series):
        style = STYLES[n]
        points = [xy(i, v) for i, v in enumerate(line.values)]
        if points:
            parts.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}">'
                    "<title>{}</title></polyline>",
                    " ".join(f"{x:.1f},{y:.1f}" for x, y in points),
                    style["colour"],
                    style["dash"] or "none",
                    line.label,
                )
            )
        # Markers only where a person can tell them apart; the <title>s carry the numbers either way.
        if len(points) <= 62:
            label = escape(line.label)
            markers = "".join(
                _marker(style["marker"], x, y, style["colour"], f"{label}, {day:%d %b %Y}: {value:,}")
                for (x, y), day, value in zip(points, days, line.values, strict=True)
            )
            parts.append(mark_safe(markers))  # noqa: S308 - built from numbers, dates and the escaped label
        if points:
            x, y = points[-1]
            while any(abs(y - other) < 12 for other in used_end_labels):  # end labels never overlap
                y += 12
            used_end_labels.append(y)
            parts.append(
                format_html(
                    '<text x="{}" y="{}" class="label end-label">{} {}</text>',
                    f"{x + 6:.1f}",
                    f"{y + 4:.1f}",
                    line.label,
                    f"{line.values[-1]:,}",
                )
            )
    legend = format_html_join(
        "",
        '<g transform="translate({},4)"><line x1="0" y1="6" x2="18" y2="6" stroke="{}" stroke-width="2" '
        'stroke-dasharray="{}"></line><text x="22" y="10" class="legend">{}</text></g>',
        ((left + n * 150, STYLES[n]["colour"], STYLES[n]["dash"] or "none", s.label) for n, s in enumerate(series)),
    )
    total = "; ".join(f"{s.label} {sum(s.values):,} in all" for s in series)
    described = f"{title} ({total})"
    return format_html(
        '<svg class="vouch-chart vouch-lines" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" '
        'height="{}"><title>{}</title>{}{}</svg>',
        described,
        width,
        height,
        width,
        height,
        described,
        legend,
        format_html_join("", "{}", ((p,) for p in parts)),
    )


def funnel(steps: list[Step], *, title: str, width: int = 640, row: int = 34) -> SafeString:
    """Each step as a bar under the one before, its number and its share of the step above (or of `of`) written out."""
    label_w, value_w = 150, 250
    plot = width - label_w - value_w
    top = max((s.value for s in steps), default=0) or 1
    height = row * max(len(steps), 1) + 4
    rows = []
    for i, step in enumerate(steps):
        y = i * row + 2
        share = ""
        base = steps[step.of if step.of is not None else i - 1] if i else None
        if base is not None and base.value:
            above, name = base.value, base.label.lower()
            # A wall shows several testimonials per impression: more views than impressions is no error.
            singular = name[:-1] if name.endswith("s") else name
            ratio = step.value / above
            share = f" ({ratio:.1%} of {name})" if ratio <= 1 else f" ({ratio:.1f} per {singular})"
        bar_w = max(round(plot * step.value / top), 1 if step.value else 0)
        rows.append(
            format_html(
                '<text x="0" y="{}" class="label">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#4f46e5" rx="3"><title>{}: {}{}</title></rect>'
                '<text x="{}" y="{}" class="value">{}{}</text>',
                f"{y + row * 0.6:.1f}",
                step.label,
                label_w,
                y + 5,
                bar_w,
                row - 12,
                step.label,
                f"{step.value:,}",
                share,
                label_w + bar_w + 6,
                f"{y + row * 0.6:.1f}",
                f"{step.value:,}",
                share,
            )
        )
    return format_html(
        '<svg class="vouch-chart vouch-funnel" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" '
        'height="{}"><title>{}</title>{}</svg>',
        title + ": " + ", ".join(f"{s.label} {s.value:,}" for s in steps),
        width,
        height,
        width,
        height,
        title,
        format_html_join("", "{}", ((r,) for r in rows)),
    )
