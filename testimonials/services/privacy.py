"""GDPR: a customer's data can be exported whole and erased everywhere it went."""

from __future__ import annotations

import logging

from django.core.files.storage import default_storage
from django.db import transaction

from testimonials.errors import PermissionDenied
from testimonials.models import Brand, Testimonial
from testimonials.selectors import user_can_edit_brand
from testimonials.storage import private_storage
from testimonials.widgets.services import widgets_request_publish

log = logging.getLogger(__name__)


def _files_of(item: Testimonial) -> tuple[list[str], list[str]]:
    private, public = [], []
    for asset in item.media.all():
        if asset.original:
            private.append(asset.original.name)
        public += [d["path"] for d in asset.derivatives.values() if isinstance(d, dict) and d.get("path")]
    return private, public


def testimonial_erase(*, testimonial: Testimonial, actor) -> None:
    """Remove a testimonial, its audit trail, its originals and every public rendition, then
    republish the brand's widgets so no published copy keeps it. Files go after commit."""
    if not user_can_edit_brand(actor, testimonial.brand):
        raise PermissionDenied("Only the brand's owners and editors can erase its testimonials.")
    private_files, public_files = _files_of(testimonial)
    brand_id = testimonial.brand_id
    with transaction.atomic():
        Testimonial.objects.filter(id=testimonial.id).delete()
        widgets_request_publish(brand_id=brand_id)
        transaction.on_commit(lambda: _delete_files(private_files, public_files))
    log.info("Erased testimonial %s of brand %s at the request of user %s", testimonial.id, brand_id, actor.pk)


def _delete_files(private_files: list[str], public_files: list[str]) -> None:
    for storage, names in ((private_storage(), private_files), (default_storage, public_files)):
        for name in names:
            try:
                storage.delete(name)
            except OSError:
                log.warning("Could not delete %s; it is no longer referenced by any row.", name, exc_info=True)


def customer_erase(*, brand: Brand, email: str, actor) -> int:
    """Erase every testimonial a customer (by email) left with a brand. Returns how many."""
    items = list(Testimonial.objects.filter(brand=brand, author_email__iexact=email.strip()))
    for item in items:
        testimonial_erase(testimonial=item, actor=actor)
    return len(items)


def customer_export(*, brand: Brand, email: str, actor) -> dict:
    """Everything a brand holds about a customer (by email), as JSON-ready data."""
    if not user_can_edit_brand(actor, brand):
        raise PermissionDenied("Only the brand's owners and editors can export customer data.")
    items = Testimonial.objects.filter(brand=brand, author_email__iexact=email.strip()).prefetch_related(
        "media", "events", "tags"
    )
    return {
        "brand": brand.name,
        "email": email.strip(),
        "testimonials": [
            {
                "id": item.public_id,
                "submitted_at": item.created_at.isoformat(),
                "name": item.author_name,
                "email": item.author_email,
                "title": item.author_title,
                "company": item.author_company,
                "link": item.author_url,
                "rating": item.rating,
                "text": item.text,
                "answers": item.answers,
                "consent": {
                    "given": item.consent_given,
                    "text": item.consent_text,
                    "at": item.consented_at.isoformat() if item.consented_at else None,
                    "marketing": item.marketing_consent,
                },
                "state": item.state,
                "tags": [tag.name for tag in item.tags.all()],
                "media": [
                    {"kind": asset.kind, "file_name": asset.original_name, "status": asset.status}
                    for asset in item.media.all()
                ],
                "history": [
                    {"at": e.created_at.isoformat(), "action": e.action, "to_state": e.to_state, "reasons": e.reasons}
                    for e in item.events.all()
                ],
            }
            for item in items
        ],
    }
