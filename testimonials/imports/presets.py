"""Mapping presets: where each platform's export keeps the author, rating, text, date, link and media.

Headers are matched ignoring case, spaces, underscores and punctuation ("Review Stars", "review_stars"
and "ReviewStars" are one name), so an export that renames a column slightly still maps. JSON presets
name dotted paths into each review object. The targets are the customer fields declared once in
collection/fields.py, plus what an import keeps about where a review came from.

Sources of the column names (docs/integrations.md lists them per preset):
  plain CSV / JSON   Vouch's own template (docs/integrations.md), also what a spreadsheet export gives
  Google Business    the Business Profile API review object (Google Takeout gives the same JSON)
  Trustpilot         the Business app's review export (CSV)
  Judge.me           Judge.me's review import/export CSV
  Senja, Testimonial.to  their CSV exports; neither publishes a column specification, so these read
                     the names their exports use today and the plain names besides
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# What an import can fill. The customer's own fields take their names from collection/fields.py.
TARGETS = (
    "external_id", "author_name", "author_email", "author_title", "author_company", "author_url", "rating",
    "title", "text", "date", "platform", "source_url", "avatar_url", "photo_url", "video_url",
)  # fmt: skip

_PLAIN = {
    "external_id": ("id", "review id", "external id"),
    "author_name": ("name", "author", "author name", "reviewer", "reviewer name", "customer name", "customer"),
    "author_email": ("email", "author email", "reviewer email", "customer email"),
    "author_title": ("job title", "author title", "position", "role"),
    "author_company": ("company", "author company", "organization", "organisation"),
    "author_url": ("link", "author url", "website", "profile url"),
    "rating": ("rating", "stars", "score"),
    "title": ("review title", "headline", "summary"),
    "text": ("text", "review", "body", "content", "comment", "testimonial", "message"),
    "date": ("date", "created at", "review date", "submitted at", "created"),
    "platform": ("source", "platform"),
    "source_url": ("source url", "review url", "url"),
    "avatar_url": ("avatar url", "avatar", "profile photo"),
    "photo_url": ("photo url", "image url", "picture url", "images", "photos"),
    "video_url": ("video url", "video"),
}


@dataclass(frozen=True)
class Preset:
    code: str
    label: str
    platform: str  # badged "Imported from <platform>"; a "platform" column wins when the preset reads one
    format: str  # "csv" or "json"
    columns: dict[str, tuple[str, ...]]
    # JSON: where the list of reviews is in the document ("" when the document is the list).
    items_at: tuple[str, ...] = ()
    notes: str = ""
    sample: tuple[str, ...] = field(default_factory=tuple)  # a header line or a JSON skeleton for the docs


PRESETS: tuple[Preset, ...] = (
    Preset(
        "csv",
        "Plain CSV (Vouch template)",
        "",
        "csv",
        _PLAIN,
        notes="One review per row. `name` and a `rating` or `text` are required; `source` names the platform.",
        sample=(
            "name,email,job_title,company,link,rating,review_title,text,date,source,source_url,id,"
            "avatar_url,photo_url,video_url",
        ),
    ),
    Preset(
        "json",
        "Plain JSON",
        "",
        "json",
        _PLAIN,
        items_at=("reviews", "testimonials", "items", "data"),
        notes='A list of objects with the plain CSV\'s keys, or {"reviews": [...]}.',
    ),
    Preset(
        "google",
        "Google Business reviews (JSON)",
        "Google",
        "json",
        {
            "external_id": ("reviewId", "name"),
            "author_name": ("reviewer.displayName",),
            "avatar_url": ("reviewer.profilePhotoUrl",),
            "rating": ("starRating",),
            "text": ("comment",),
            "date": ("createTime",),
        },
        items_at=("reviews",),
        notes="reviews.json from Google Takeout (Business Profile) or the API's reviews list. Translated "
        "comments keep the customer's original words.",
    ),
    Preset(
        "trustpilot",
        "Trustpilot (CSV)",
        "Trustpilot",
        "csv",
        {
            "external_id": ("review id", "id"),
            "author_name": ("consumer name", "review consumer user name", "reviewer name", "name", "author"),
            "author_email": ("consumer email", "review consumer email", "email"),
            "rating": ("review stars", "stars", "rating"),
            "title": ("review title", "title"),
            "text": ("review content", "review text", "content", "text"),
            "date": ("review created (utc)", "review created", "created at", "date"),
            "source_url": ("review url", "link", "url"),
        },
    ),
    Preset(
        "judgeme",
        "Judge.me (CSV)",
        "Judge.me",
        "csv",
        {
            "author_name": ("reviewer_name",),
            "author_email": ("reviewer_email",),
            "rating": ("rating",),
            "title": ("title",),
            "text": ("body",),
            "date": ("review_date",),
            "photo_url": ("picture_urls",),
            "external_id": ("id", "review_id"),
        },
        notes="Judge.me's export: title, body, rating, review_date, reviewer_name, reviewer_email, picture_urls, "
        "product_handle, ... (the 'verified' columns are ignored: an import is never verified).",
    ),
    Preset(
        "senja",
        "Senja (CSV)",
        "Senja",
        "csv",
        {
            **_PLAIN,
            "author_name": ("customer name", "name", "author name"),
            "author_email": ("customer email", "email"),
            "author_title": ("customer tagline", "tagline", "job title", "title"),
            "author_company": ("customer company", "company"),
            "author_url": ("customer url", "customer link", "link"),
            "avatar_url": ("customer avatar", "avatar", "avatar url"),
            "text": ("text", "testimonial", "content"),
            "title": ("review title",),
            "platform": ("integration", "source", "platform"),
        },
    ),
    Preset(
        "testimonial_to",
        "Testimonial.to (CSV)",
        "Testimonial.to",
        "csv",
        {
            **_PLAIN,
            "author_name": ("name", "customer name"),
            "author_title": ("job title", "title", "position"),
            "author_url": ("social link", "link", "website"),
            "text": ("testimonial", "text", "review", "content"),
            "avatar_url": ("avatar", "photo", "avatar url"),
            "video_url": ("video url", "video"),
            "photo_url": ("image url", "images", "attached images"),
            "title": ("review title",),
            "platform": (),
        },
    ),
)
BY_CODE: dict[str, Preset] = {preset.code: preset for preset in PRESETS}
CHOICES: list[tuple[str, str]] = [(preset.code, preset.label) for preset in PRESETS]


def normalise(name: str) -> str:
    """A header as matched: lower case, letters, digits and parentheses only ("Review Stars" -> "reviewstars")."""
    return re.sub(r"[^a-z0-9()]", "", str(name).lower())
