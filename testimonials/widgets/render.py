"""A widget's public data and its document, built from the database when its content changes.

Everything here ends up on other people's sites, so it follows three rules:
- only what a visitor may see: names, titles, companies, ratings, redacted text, public media
  renditions and public ids; never emails, IPs, internal ids, flags or consent records;
- customer links are kept only when they are https: (escaping stops markup, not `javascript:`);
- text is escaped by the template engine; nothing is marked safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.template.loader import render_to_string

from testimonials import selectors
from testimonials.models import MediaAsset, Testimonial, Widget
from testimonials.moderation.rules import redact
from testimonials.widgets.schema import jsonld_for_widget

# Belt and braces: processing redacts personal data into public_text; personal data that slipped
# through (an item approved by hand before processing ran) is still never published.
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_SAFE_URL = re.compile(r"^https://[^\s\"'<>\\]+$", re.IGNORECASE)

BADGE_LABELS = {"verified": "Verified customer", "imported": "Imported review", "incentivised": "Incentivised review"}


@dataclass(frozen=True)
class Rendered:
    document: str  # the HTML document shown in the iframe
    data: dict  # the public JSON data (summary, items, JSON-LD)


def safe_url(value: str) -> str:
    """The link if it is a plain https: URL, else "" (javascript:, data:, http: and oddities are dropped)."""
    value = (value or "").strip()
    return value if _SAFE_URL.match(value) else ""


def public_text(item: Testimonial) -> str:
    return redact(item.public_text or item.text or "").strip()


def _absolute(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else f"{settings.PUBLIC_URL}{url}"


def _rendition(asset: MediaAsset, prefix: str) -> dict | None:
    """The public rendition of an asset whose name starts with `prefix` ("card.", "poster."), WebP first."""
    names = sorted((n for n in asset.derivatives if n.startswith(prefix)), key=lambda n: not n.endswith(".webp"))
    for name in names:
        info = asset.derivatives.get(name)
        if isinstance(info, dict) and info.get("path"):
            return {
                "src": _absolute(default_storage.url(info["path"])),
                "width": info.get("width") or None,
                "height": info.get("height") or None,
            }
    return None


def _media(item: Testimonial) -> dict:
    """Ready renditions only: a video still transcoding is left out and the testimonial shows without it."""
    found: dict = {}
    for asset in item.media.all():
        if asset.status != MediaAsset.Status.READY:
            continue
        if asset.kind == MediaAsset.Kind.AVATAR and "avatar" not in found:
            found["avatar"] = _rendition(asset, "avatar.") or _rendition(asset, "card.")
        elif asset.kind == MediaAsset.Kind.PHOTO and "photo" not in found:
            found["photo"] = _rendition(asset, "card.")
        elif asset.kind == MediaAsset.Kind.VIDEO and "video" not in found:
            video = _rendition(asset, "video.")
            if video:
                poster = _rendition(asset, "poster.")
                found["video"] = {
                    "src": video["src"],
                    "poster": poster["src"] if poster else "",
                    "width": (poster or video)["width"],
                    "height": (poster or video)["height"],
                    "duration": round(asset.duration_seconds) if asset.duration_seconds else None,
                }
    return {key: value for key, value in found.items() if value}


def item_data(item: Testimonial) -> dict:
    badges = [
        code
        for code, on in (
            ("verified", item.is_verified),
            ("imported", item.is_imported),
            ("incentivised", item.is_incentivised),
        )
        if on
    ]
    return {
        "id": item.public_id,
        "name": item.author_name,
        "title": item.author_title,
        "company": item.author_company,
        "url": safe_url(item.author_url),
        "rating": item.rating,
        "text": public_text(item),
        "highlight": redact(item.highlight or ""),
        # When the customer wrote it: an imported review keeps its original date.
        "date": item.written_at.date().isoformat(),
        "featured": item.featured,
        "badges": badges,
        "imported_from": item.source_platform if item.is_imported else "",
        **_media(item),
    }


def is_curated(widget: Widget) -> bool:
    """A selection the brand chose (FTC: label it "selected"): hand-picked, filtered or featured first.
    Only "every published testimonial, newest first" is not curated."""
    if widget.selection == Widget.Selection.MANUAL:
        return True
    has_filters = (
        widget.filter_featured
        or widget.filter_has_video
        or bool(widget.filter_language)
        or bool(widget.filter_form_id)
        or widget.filter_tags.exists()
    )
    return has_filters or widget.order != Widget.Order.NEWEST


def widget_data(widget: Widget) -> dict:
    """The public JSON of a widget: what it shows, its look, the brand-wide rating summary and JSON-LD."""
    items = [item_data(item) for item in selectors.testimonial_list_for_widget(widget=widget)]
    summary = selectors.rating_summary_for_brand(brand_id=widget.brand_id, form_id=widget.filter_form_id)
    summary["customers"] = selectors.testimonial_count_published(brand_id=widget.brand_id)
    data = {
        "widget": {
            "id": widget.public_id,
            "layout": widget.layout,
            "theme": widget.theme,
            "accent": widget.accent_color or widget.brand.accent_color,
            "radius": widget.corner_radius,
            # The rating badge shows a summary of every eligible review, not a selection.
            "curated": widget.layout != Widget.Layout.BADGE and is_curated(widget),
            "brand": widget.brand.name,
            "wall": f"{settings.PUBLIC_URL}/w/{widget.public_id}/",
        },
        "summary": summary,
        "items": items,
    }
    data["jsonld"] = jsonld_for_widget(widget, summary=summary, items=items)
    return data


def _stars(rating) -> list[bool]:
    full = round(rating or 0)
    return [i < full for i in range(5)]


def _badge_label(code: str, item: dict) -> str:
    if code == "imported" and item.get("imported_from"):
        return f"Imported from {item['imported_from']}"
    return BADGE_LABELS[code]


def document_context(data: dict, *, hosted: bool = False) -> dict:
    items = [
        {
            **item,
            "stars": _stars(item["rating"]),
            "badge_labels": [_badge_label(b, item) for b in item["badges"]],
            "initials": "".join(part[:1] for part in item["name"].split()[:2]).upper() or "?",
        }
        for item in data["items"]
    ]
    summary = data["summary"]
    widget = data["widget"]
    # Validated on the model, checked again here: these go into CSS and class names, not escaped text.
    accent = widget["accent"] if _HEX.match(widget["accent"] or "") else "#4f46e5"
    layout = widget["layout"] if widget["layout"] in Widget.Layout.values else Widget.Layout.WALL
    theme = widget["theme"] if widget["theme"] in Widget.Theme.values else Widget.Theme.AUTO
    return {
        "w": {**widget, "layout": layout, "theme": theme},
        "layout_template": f"testimonials/widget/layouts/{layout}.html",
        "items": items,
        "summary": summary,
        "summary_stars": _stars(summary["average"]),
        "hosted": hosted,
        "radius": min(max(int(widget["radius"] or 0), 0), 32),
        "accent": accent,
    }


def widget_render(widget: Widget) -> Rendered:
    """Build the public data and the document (about 0.5 ms of template work: done at publish time only)."""
    data = widget_data(widget)
    document = render_to_string("testimonials/widget/document.html", document_context(data))
    return Rendered(document=document, data=data)
