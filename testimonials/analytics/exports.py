"""The Influence table as CSV: every testimonial of the report, its counts and its estimate.

Numbers a spreadsheet can compute with (rates as fractions, differences as rates, empty when there is
not enough data) beside the sentence the page shows, so nobody reads an estimate without its interval.
"""

from __future__ import annotations

import csv
import io

from django.http import HttpResponse

from testimonials.admin.exports import FORMULA_STARTS
from testimonials.analytics import estimates
from testimonials.analytics.influence import InfluenceReport, TestimonialRow

COLUMNS = [
    "testimonial",
    "author",
    "excerpt",
    "views",
    "plays",
    "q25",
    "q50",
    "q75",
    "completions",
    "completion_rate",
    "clicks",
    "viewers",
    "viewers_converted",
    "baseline_visitors",
    "baseline_converted",
    "conversions_any_touch",
    "value_any_touch",
    "conversions_last_touch",
    "value_last_touch",
    "currency",
    "influence_difference",
    "influence_low_95",
    "influence_high_95",
    "probability_beats_baseline",
    "influence",
]


def excerpt(row: TestimonialRow, length: int = 80) -> str:
    item = row.testimonial
    if item is None:
        return ""
    text = " ".join((item.public_text or item.text or "").split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    text = str(value)
    # A spreadsheet runs a cell starting with these as a formula (CSV injection); a number keeps its sign.
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _line(row: TestimonialRow, currency: str) -> list:
    item, found = row.testimonial, row.influence
    enough = found is not None and found.enough_data
    return [
        item.public_id if item else row.testimonial_id,
        item.author_name if item else "",
        excerpt(row),
        row.views,
        row.plays,
        row.q25,
        row.q50,
        row.q75,
        row.completions,
        row.completion_rate,
        row.clicks,
        row.viewers,
        row.viewer_converters,
        row.baseline_visitors,
        row.baseline_converters,
        row.conversions_any,
        f"{row.value_any:.2f}",
        row.conversions_last,
        f"{row.value_last:.2f}",
        currency,
        found.difference if enough else None,
        found.low if enough else None,
        found.high if enough else None,
        found.probability_better if enough else None,
        found.summary if found else estimates.NOT_ENOUGH_DATA,
    ]


def influence_csv(report: InfluenceReport, *, filename: str) -> HttpResponse:
    """The whole table (every row of the report, in its order) as a CSV download."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so spreadsheet programs read UTF-8
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in report.rows:
        writer.writerow([_cell(v) for v in _line(row, report.currency)])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
