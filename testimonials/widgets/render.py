"""A widget's public data and its document, built from the database when its content changes.

Everything here ends up on other people's sites, so it follows three rules:
- only what a visitor may see: names, titles, companies, ratings, redacted text, public media
  renditions and public ids; never emails, IPs, internal ids, flags or consent records;
- customer links are kept only when they are https: (escaping stops markup, not `javascript:`);
- text is escaped by the template engine; nothing is marked safe.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from testimonials import selectors
from testimonials.models import MediaAsset, Testimonial, Widget
from testimonials.widgets.schema import jsonld_for_widget

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_SAFE_URL = re.compile(r"^https://[^\s\"'<>\\]+$", re.IGNORECASE)

BADGE_LABELS = {
    "verified": _("Verified customer"),
    "imported": _("Imported review"),
    "incentivised": _("Incentivised review"),
}
# The hosted page lists the widget's selection beyond its own `max_items`, this many per page, at most
# HOSTED_MAX in all: every page is rendered at publish time, so a view never reaches the database.
HOSTED_PER_PAGE = 24
HOSTED_MAX = 480
RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur"})
# "Best performing (auto)": the document carries a pool larger than the widget shows, so a brand's
# whole catalogue gets tried; the widget document orders the pool per page view and shows `max_items`.
AUTO_POOL_FACTOR = 3
AUTO_POOL_MAX = 48
# Who supplies the auto order's Beta posteriors: (widget, testimonials) -> ({testimonial id: (alpha,
# beta)}, exploration share). testimonials/influence registers it; widgets never import influence.
_posterior_sources: list = []


def register_posterior_source(source) -> None:
    if source not in _posterior_sources:
        _posterior_sources.append(source)


def auto_pool_size(widget: Widget) -> int:
    return max(widget.max_items, min(AUTO_POOL_FACTOR * widget.max_items, AUTO_POOL_MAX))


@dataclass(frozen=True)
class Rendered:
    document: str  # the HTML document shown in the iframe
    data: dict  # the public JSON data (summary, items, JSON-LD)
    pages: list[str] = field(default_factory=list)  # the hosted page, page by page (/w/<id>/?page=N)
    shown: list[str] = field(default_factory=list)  # public ids of every testimonial shown, hosted pages included


def safe_url(value: str) -> str:
    """The link if it is a plain https: URL, else "" (javascript:, data:, http: and oddities are dropped)."""
    value = (value or "").strip()
    return value if _SAFE_URL.match(value) else ""


def public_text(item: Testimonial) -> str:
    """The stored public text. Redaction ran once when it was written (processing, a person's approval
    or edit: see services/decisions.py); rendering never redacts, so a page costs no regex work."""
    return (item.public_text or "").strip()


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


def initials(name: str) -> str:
    """Up to two initials from the first letters of the name's words: letters only, never an emoji or a digit."""
    found = []
    for word in name.split():
        letter = next((ch for ch in word if ch.isalpha()), "")
        if letter:
            found.append(letter.upper())
        if len(found) == 2:
            break
    return "".join(found) or "?"


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
        "highlight": item.highlight or "",
        # When the customer wrote it: an imported review keeps its original date.
        "date": item.written_at.date().isoformat(),
        "featured": item.featured,
        "badges": badges,
        "imported_from": item.source_platform if item.is_imported else "",
        **_media(item),
    }


def is_curated(widget: Widget, *, tag_ids: list[int] | None = None) -> bool:
    """A selection the brand chose (FTC: label it "selected"): hand-picked, filtered, a minimum rating
    or featured first. Only "every published testimonial, newest first" is not curated."""
    if widget.selection == Widget.Selection.MANUAL:
        return True
    if tag_ids is None:
        has_tags = widget.filter_tags.exists() if widget.pk else False
    else:
        has_tags = bool(tag_ids)
    has_filters = (
        widget.filter_featured
        or widget.filter_has_video
        or bool(widget.filter_language)
        or bool(widget.filter_topic)
        or bool(widget.filter_form_id)
        or bool(widget.min_rating)
        or has_tags
    )
    return has_filters or widget.order != Widget.Order.NEWEST


def widget_data(widget: Widget, *, tag_ids: list[int] | None = None, hosted: list[dict] | None = None) -> dict:
    """The public JSON of a widget: what it shows, its look, the brand-wide rating summary and JSON-LD.

    The summary counts every eligible review of the brand (or of the widget's form), whatever the
    widget displays: a minimum rating or any other selection never changes it (FTC 16 CFR 465).
    `hosted`, when given, receives every item of the hosted page (the same selection, up to HOSTED_MAX).
    """
    auto = widget.order == Widget.Order.AUTO and bool(_posterior_sources)
    shown = auto_pool_size(widget) if auto else widget.max_items
    selection = selectors.testimonial_list_for_widget(
        widget=widget, limit=max(shown, HOSTED_MAX if hosted is not None else 0), tag_ids=tag_ids
    )
    everything = [item_data(item) for item in selection]
    items = everything[:shown]
    auto_settings = None
    if auto:
        params, exploration = _posterior_sources[0](widget, selection[:shown])
        for item, testimonial in zip(items, selection, strict=False):
            alpha, beta = params[testimonial.id]
            # Featured testimonials stay pinned at the top; the rest are drawn per page view.
            item.update(p=[alpha, beta], pin=testimonial.featured)
        auto_settings = {"show": widget.max_items, "explore": exploration, "goal": widget.auto_goal}
    if hosted is not None:
        hosted.extend(everything)
    summary = selectors.rating_summary_for_brand(brand_id=widget.brand_id, form_id=widget.filter_form_id)
    summary["customers"] = selectors.testimonial_count_published(brand_id=widget.brand_id)
    form = selectors.collection_form_for_widget(widget=widget)
    logo = widget.brand.logo
    selected = is_curated(widget, tag_ids=tag_ids)
    data = {
        "widget": {
            "id": widget.public_id,
            "layout": widget.layout,
            "theme": widget.theme,
            "language": widget.language,
            "accent": widget.accent_color or widget.brand.accent_color,
            "radius": widget.corner_radius,
            # The rating badge shows a summary of every eligible review, not a selection.
            "curated": widget.layout != Widget.Layout.BADGE and selected,
            # The hosted page lists the selection whatever the layout: labelled when it is one.
            "selected": selected,
            "min_rating": widget.min_rating,
            "auto": auto_settings,
            "brand": widget.brand.name,
            "logo": _absolute(logo.url) if logo else "",
            "wall": f"{settings.PUBLIC_URL}/w/{widget.public_id}/",
            "form": f"{settings.PUBLIC_URL}{reverse('collect-form', args=[widget.brand.slug, form.slug])}"
            if form
            else "",
        },
        "summary": summary,
        "items": items,
    }
    data["jsonld"] = jsonld_for_widget(widget, summary=summary, items=items[: widget.max_items])
    return data


def _stars(rating) -> list[bool]:
    full = round(rating or 0)
    return [i < full for i in range(5)]


def _badge_label(code: str, item: dict) -> str:
    if code == "imported" and item.get("imported_from"):
        return f"Imported from {item['imported_from']}"
    return BADGE_LABELS[code]


def _display_item(item: dict) -> dict:
    return {
        **item,
        "stars": _stars(item["rating"]),
        "badge_labels": [_badge_label(b, item) for b in item["badges"]],
        "initials": initials(item["name"]),
    }


def document_context(data: dict, *, hosted: bool = False, items: list[dict] | None = None) -> dict:
    items = [_display_item(item) for item in (data["items"] if items is None else items)]
    summary = data["summary"]
    widget = data["widget"]
    # Validated on the model, checked again here: these go into CSS and class names, not escaped text.
    accent = widget["accent"] if _HEX.match(widget["accent"] or "") else "#4f46e5"
    layout = widget["layout"] if widget["layout"] in Widget.Layout.values else Widget.Layout.WALL
    theme = widget["theme"] if widget["theme"] in Widget.Theme.values else Widget.Theme.LIGHT
    language = widget.get("language") if widget.get("language") in dict(settings.LANGUAGES) else "en"
    return {
        "w": {**widget, "layout": layout, "theme": theme, "language": language},
        "direction": "rtl" if language in RTL_LANGUAGES else "ltr",
        "layout_template": f"testimonials/widget/layouts/{layout}.html",
        "items": items,
        "summary": summary,
        "summary_stars": _stars(summary["average"]),
        "hosted": hosted,
        "radius": min(max(int(widget["radius"] or 0), 0), 32),
        "accent": accent,
    }


def hosted_pages(data: dict, hosted: list[dict]) -> list[str]:
    """The hosted page (/w/<id>/), one document per page of HOSTED_PER_PAGE items, in the widget's layout."""
    from testimonials.widgets.schema import jsonld_script_text  # schema imports nothing from here

    count = max(1, math.ceil(len(hosted) / HOSTED_PER_PAGE))
    jsonld = jsonld_script_text(data["jsonld"]) if data.get("jsonld") else ""
    pages = []
    for number in range(1, count + 1):
        chunk = hosted[(number - 1) * HOSTED_PER_PAGE : number * HOSTED_PER_PAGE]
        context = document_context(data, hosted=True, items=chunk)
        context["w"]["curated"] = data["widget"]["selected"]
        context.update(
            page=number,
            pages=count,
            previous=number - 1 if number > 1 else None,
            next=number + 1 if number < count else None,
            jsonld=jsonld,
            total=len(hosted),
        )
        pages.append(render_to_string("testimonials/widget/wall.html", context))
    return pages


def widget_render(widget: Widget, *, tag_ids: list[int] | None = None, with_pages: bool = True) -> Rendered:
    """Build the public data, the document and the hosted pages, in the widget's language (template work:
    done at publish time only, and for the admin's preview)."""
    hosted: list[dict] | None = [] if with_pages else None
    with translation.override(widget.language or "en"):
        data = widget_data(widget, tag_ids=tag_ids, hosted=hosted)
        document = render_to_string("testimonials/widget/document.html", document_context(data))
        pages = hosted_pages(data, hosted) if hosted is not None else []
    shown = [item["id"] for item in (hosted if hosted is not None else data["items"])]
    return Rendered(document=document, data=data, pages=pages, shown=shown)
