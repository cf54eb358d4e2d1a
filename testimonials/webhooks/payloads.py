"""What a webhook carries: the testimonial as the API shows it (GET /api/v1/testimonials/{id}/), and the
Slack preset's message. Built when the event is handled, then frozen on the delivery row."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse

from testimonials.collection.fields import TESTIMONIAL_FIELDS
from testimonials.models import MediaAsset, Testimonial
from testimonials.webhooks import events


def _absolute(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else f"{settings.PUBLIC_URL}{url}"


def media_payload(asset: MediaAsset) -> dict:
    renditions = {}
    if asset.status == MediaAsset.Status.READY:
        renditions = {
            name: {
                "url": _absolute(default_storage.url(info["path"])),
                "width": info.get("width"),
                "height": info.get("height"),
            }
            for name, info in asset.derivatives.items()
            if isinstance(info, dict) and info.get("path")
        }
    return {
        "id": asset.public_id,
        "kind": asset.kind,
        "status": asset.status,
        "duration_seconds": asset.duration_seconds,
        "width": asset.width,
        "height": asset.height,
        "renditions": renditions,
        "error": asset.error,
    }


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def testimonial_payload(item: Testimonial) -> dict:
    """The testimonial's fields, the same keys as the API's TestimonialOutput (a test keeps them equal).

    `item` comes with brand, form, tags and media loaded.
    """
    return {
        "id": item.public_id,
        "brand": item.brand.slug,
        "form": item.form.slug if item.form_id else None,
        "source": item.source,
        "source_platform": item.source_platform,
        "source_url": item.source_url,
        "source_created_at": _iso(item.source_created_at),
        "state": item.state,
        **{spec.name: getattr(item, spec.name) for spec in TESTIMONIAL_FIELDS},
        "public_text": item.public_text,
        "answers": item.answers,
        "highlight": item.highlight,
        "sentiment_score": item.sentiment_score,
        "sentiment_label": item.sentiment_label,
        "sentiment_reason": item.sentiment_reason,
        "topics": item.topics or [],
        "language": item.language,
        "flags": item.flags,
        "featured": item.featured,
        "tags": sorted(tag.name for tag in item.tags.all()),
        "is_verified": item.is_verified,
        "is_incentivised": item.is_incentivised,
        "consent_given": item.consent_given,
        "consent_text": item.consent_text,
        "consented_at": _iso(item.consented_at),
        "rejection_reason": item.rejection_reason,
        "created_at": _iso(item.created_at),
        "updated_at": _iso(item.updated_at),
        "media": [media_payload(asset) for asset in item.media.all()],
    }


def event_data(event_type: str, *, entry, brand_slug: str, item: Testimonial | None) -> dict:
    """The `data` of an event: the whole testimonial, or only its id once it is erased; an invitation's
    event names the invitation and campaign, with the testimonial it brought."""
    if event_type == events.INVITATION_SUBMITTED:
        return {
            "invitation": entry.data.get("invitation", entry.public_id),
            "campaign": entry.data.get("campaign", ""),
            "brand": brand_slug,
            "testimonial": testimonial_payload(item) if item is not None else None,
        }
    if event_type == events.ERASED or item is None:
        return {"id": item.public_id if item is not None else entry.public_id, "brand": brand_slug}
    return testimonial_payload(item)


def scrubbed(public_id: str, brand_slug: str) -> dict:
    """What an erased testimonial's undelivered and logged events keep: its id, nothing personal."""
    return {"id": public_id, "brand": brand_slug, "erased": True}


def envelope(*, event_type: str, occurred_at, data: dict) -> dict:
    """The body of a Standard Webhooks message: {"type", "timestamp", "data"}."""
    return {"type": event_type, "timestamp": _iso(occurred_at), "data": data}


# --------------------------------------------------------------------------- the Slack preset

_SLACK_TITLES = {
    events.RECEIVED: "New testimonial to review",
    events.APPROVED: "Testimonial approved",
    events.REJECTED: "Testimonial rejected",
    events.PUBLISHED: "Testimonial published",
    events.ERASED: "Testimonial erased at the customer's request",
}


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn reads &, < and > as markup (links, mentions): escape exactly these three.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(*, event_type: str, data: dict, testimonial_id: int | None) -> dict:
    """An incoming-webhook message: what arrived, who wrote it, the stars, the words, and where to review it."""
    title = _SLACK_TITLES.get(event_type, event_type)
    if data.get("erased") or "author_name" not in data:
        return {"text": f"{title} ({data.get('id', '')})."}
    stars = "★" * int(data.get("rating") or 0)
    who = _slack_escape(data.get("author_name") or "Someone")
    company = data.get("author_company")
    if company:
        who += f" ({_slack_escape(company)})"
    words = _slack_escape((data.get("public_text") or data.get("text") or "").strip())
    if len(words) > 600:
        words = words[:600].rstrip() + "…"
    lines = [f"*{title}* from {who} {stars}".rstrip()]
    if words:
        lines.append("> " + words.replace("\n", "\n> "))
    if testimonial_id is not None:
        admin_url = _absolute(reverse("admin:testimonials_testimonial_change", args=[testimonial_id]))
        lines.append(f"<{admin_url}|Review it in Vouch>")
    return {"text": "\n".join(lines), "unfurl_links": False, "unfurl_media": False}
