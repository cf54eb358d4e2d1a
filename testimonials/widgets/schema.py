"""schema.org JSON-LD for a widget, built from data (never scraped from markup).

Search engines accept review snippets for products and services, not for an organisation
reviewing itself, so a widget only carries JSON-LD when its brand says what item it is about.
"""

from __future__ import annotations

import json

from testimonials.models import Widget


def jsonld_for_widget(widget: Widget, *, summary: dict, items: list[dict]) -> dict | None:
    name = widget.schema_item_name.strip()
    if widget.schema_kind not in (Widget.SchemaKind.PRODUCT, Widget.SchemaKind.SERVICE) or not name:
        return None
    document: dict = {"@context": "https://schema.org", "@type": widget.schema_kind, "name": name}
    if summary.get("count") and summary.get("average") is not None:
        # The summary counts every eligible review, not only the ones shown (FTC: no suppression).
        document["aggregateRating"] = {
            "@type": "AggregateRating",
            "ratingValue": summary["average"],
            "reviewCount": summary["count"],
            "bestRating": 5,
            "worstRating": 1,
        }
    reviews = [
        {
            "@type": "Review",
            "author": {"@type": "Person", "name": item["name"]},
            "datePublished": item["date"],
            "reviewBody": item["text"],
            "reviewRating": {"@type": "Rating", "ratingValue": item["rating"], "bestRating": 5, "worstRating": 1},
        }
        for item in items
        if item.get("rating") and item.get("text")
    ]
    if reviews:
        document["review"] = reviews
    if "aggregateRating" not in document and not reviews:
        return None
    return document


def jsonld_script_text(document: dict) -> str:
    """JSON for inside a <script type="application/ld+json"> element: `<`, `>` and `&` escaped so that
    text like `</script>` in a review cannot end the element."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
