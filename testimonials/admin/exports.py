"""CSV and JSON exports of the moderation list, streamed so 100,000 rows never sit in memory."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from testimonials.collection.fields import TESTIMONIAL_FIELDS
from testimonials.models import Testimonial

# The customer's own fields come from their one declaration (collection/fields.py), then what Vouch added.
CUSTOMER_COLUMNS = [spec.name for spec in TESTIMONIAL_FIELDS]
COLUMNS = [
    "public_id",
    "brand",
    "form",
    "source",
    "state",
    *CUSTOMER_COLUMNS,
    "answers",
    "public_text",
    "highlight",
    "sentiment_label",
    "sentiment_score",
    "sentiment_reason",
    "topics",
    "flags",
    "tags",
    "featured",
    "is_verified",
    "is_incentivised",
    "consent_given",
    "consented_at",
    "rejection_reason",
    "created_at",
    "decided_at",
]
CHUNK = 2000
# A spreadsheet runs a cell starting with these as a formula (CSV injection): prefix them with a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _row(item: Testimonial) -> dict:
    return {
        "public_id": item.public_id,
        "brand": item.brand.slug,
        "form": item.form.slug if item.form else "",
        "source": item.source,
        "state": item.state,
        **{name: getattr(item, name) for name in CUSTOMER_COLUMNS},
        "answers": [a for a in item.answers or [] if isinstance(a, dict)],
        "public_text": item.public_text,
        "highlight": item.highlight,
        # "unscored" with an empty score: a language Vouch cannot read, never a fake neutral.
        "sentiment_label": item.sentiment_label,
        "sentiment_score": item.sentiment_score,
        "sentiment_reason": item.sentiment_reason,
        # "support+" in CSV (what is said of it: + praise, - complaint, ~ neither); the whole objects in JSON.
        "topics": [t for t in item.topics or [] if isinstance(t, dict) and t.get("code")],
        "flags": [f.get("code", "") for f in item.flags or [] if isinstance(f, dict)],
        "tags": [t.name for t in item.tags.all()],
        "featured": item.featured,
        "is_verified": item.is_verified,
        "is_incentivised": item.is_incentivised,
        "consent_given": item.consent_given,
        "consented_at": item.consented_at.isoformat() if item.consented_at else None,
        "rejection_reason": item.rejection_reason,
        "created_at": item.created_at.isoformat(),
        "decided_at": item.decided_at.isoformat() if item.decided_at else None,
    }


def _rows(queryset: QuerySet[Testimonial]) -> Iterator[dict]:
    qs = queryset.select_related("brand", "form").prefetch_related(None).prefetch_related("tags")
    yield from (_row(item) for item in qs.iterator(chunk_size=CHUNK))


TOPIC_SIGNS = {"positive": "+", "negative": "-", "neutral": "~"}


def _list_item(value) -> str:
    if not isinstance(value, dict):
        return str(value)
    if "code" in value:
        return f"{value['code']}{TOPIC_SIGNS.get(value.get('polarity', ''), '')}"
    return f"{value.get('prompt', '')}: {value.get('answer', '')}"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        # Answers to the form's questions read "question: answer" in a spreadsheet cell; topics "support+".
        value = "; ".join(_list_item(v) for v in value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _filename(ext: str) -> str:
    return f"testimonials-{timezone.now():%Y%m%d-%H%M}.{ext}"


def export_csv(queryset: QuerySet[Testimonial]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # so spreadsheet programs read UTF-8
        yield writer.writerow(COLUMNS)
        for row in _rows(queryset):
            yield writer.writerow([_cell(row[c]) for c in COLUMNS])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


def export_json(queryset: QuerySet[Testimonial]) -> StreamingHttpResponse:
    def chunks():
        yield "["
        for i, row in enumerate(_rows(queryset)):
            yield ("," if i else "") + "\n" + json.dumps(row, ensure_ascii=False)
        yield "\n]\n"

    response = StreamingHttpResponse(chunks(), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{_filename("json")}"'
    return response


FORMATS = {"csv": export_csv, "json": export_json}
