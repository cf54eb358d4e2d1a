"""GDPR: a customer's data can be exported whole and erased everywhere it went."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import transaction

from testimonials.errors import PermissionDenied
from testimonials.lifecycle.events import Change, record_many
from testimonials.models import Brand, EventType, MediaAsset, Testimonial
from testimonials.selectors import brand_ids_user_can_edit, user_can_edit_brand
from testimonials.services.decisions import BulkResult
from testimonials.storage import private_storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CustomerDataHolder:
    """A package that keeps customers' personal data of its own (invitations keep the lists brands upload).
    Registered from the package's subscriber.py, so export and erasure reach it without the core importing it."""

    name: str
    export: Callable[..., list]  # (brand=, email=, actor=) -> JSON-ready records
    erase: Callable[..., int]  # (brand=, email=, actor=) -> how many records went


_holders: dict[str, CustomerDataHolder] = {}


def customer_data_holder(name: str, *, export: Callable[..., list], erase: Callable[..., int]) -> None:
    _holders[name] = CustomerDataHolder(name=name, export=export, erase=erase)


def customer_data_holders() -> list[CustomerDataHolder]:
    return [_holders[name] for name in sorted(_holders)]


def _files_of(testimonial_ids: list[int]) -> dict[int, dict[str, list[str]]]:
    """Each testimonial's stored files, in one query: private originals and public renditions."""
    files: dict[int, dict[str, list[str]]] = {tid: {"private": [], "public": []} for tid in testimonial_ids}
    for asset in MediaAsset.objects.filter(testimonial_id__in=testimonial_ids).only(
        "testimonial_id", "original", "derivatives"
    ):
        mine = files[asset.testimonial_id]
        if asset.original:
            mine["private"].append(asset.original.name)
        mine["public"] += [d["path"] for d in asset.derivatives.values() if isinstance(d, dict) and d.get("path")]
    return files


@transaction.atomic
def testimonials_erase(*, testimonials: Iterable[Testimonial], actor) -> BulkResult:
    """Remove testimonials, their audit trails, originals and every public rendition, and republish the
    brands' widgets so no published copy keeps them.

    Rows go now; files go when the erasure's lifecycle entry reaches the privacy subscriber, which
    retries until they are gone (the entry holds the server-chosen file names, nothing personal).
    """
    result = BulkResult()
    items = list(Testimonial.objects.select_for_update().filter(id__in=[t.pk for t in testimonials]).order_by("id"))
    editable = brand_ids_user_can_edit(actor, {item.brand_id for item in items})
    erasing = []
    for item in items:
        if item.brand_id in editable:
            erasing.append(item)
        else:
            message = "Only the brand's owners and editors can erase its testimonials."
            result.refused.append((item, PermissionDenied(message)))
    if not erasing:
        return result
    files = _files_of([item.id for item in erasing])
    record_many(
        [
            Change(
                event=EventType.ERASE,
                brand_id=item.brand_id,
                testimonial=item,
                actor=actor,
                from_state=item.state,
                reasons=["Erased at the customer's request."],
                data={"files": files[item.id]},
            )
            for item in erasing
        ]
    )
    Testimonial.objects.filter(id__in=[item.id for item in erasing]).delete()
    result.done.extend(erasing)
    for item in erasing:
        log.info("Erased testimonial %s of brand %s at the request of user %s", item.id, item.brand_id, actor.pk)
    return result


def testimonial_erase(*, testimonial: Testimonial, actor) -> None:
    """Erase one testimonial everywhere (see testimonials_erase); raises PermissionDenied for outsiders."""
    testimonials_erase(testimonials=[testimonial], actor=actor).raise_first()


def files_delete(*, private: list[str], public: list[str]) -> None:
    """Delete stored files by name; a file already gone is fine. Raises OSError when storage fails."""
    for storage, names in ((private_storage(), private), (default_storage, public)):
        for name in names:
            storage.delete(name)


def customer_erase(*, brand: Brand, email: str, actor) -> int:
    """Erase every testimonial a customer (by email) left with a brand, and everything other packages
    hold about them (customer_data_holders). Returns how many testimonials."""
    if not user_can_edit_brand(actor, brand):
        raise PermissionDenied("Only the brand's owners and editors can erase customer data.")
    items = list(Testimonial.objects.filter(brand=brand, author_email__iexact=email.strip()))
    result = testimonials_erase(testimonials=items, actor=actor)
    result.raise_first()
    for holder in customer_data_holders():
        erased = holder.erase(brand=brand, email=email.strip(), actor=actor)
        log.info("Erased %s %s record(s) of a customer of brand %s", erased, holder.name, brand.id)
    return len(result.done)


def customer_export(*, brand: Brand, email: str, actor) -> dict:
    """Everything a brand holds about a customer (by email), as JSON-ready data."""
    if not user_can_edit_brand(actor, brand):
        raise PermissionDenied("Only the brand's owners and editors can export customer data.")
    items = Testimonial.objects.filter(brand=brand, author_email__iexact=email.strip()).prefetch_related(
        "media", "events", "tags"
    )
    others = {
        holder.name: holder.export(brand=brand, email=email.strip(), actor=actor) for holder in customer_data_holders()
    }
    return {
        "brand": brand.name,
        "email": email.strip(),
        **others,
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
                # What Vouch read in the text (derived from it, so it is the customer's data too).
                "sentiment": {"label": item.sentiment_label, "reason": item.sentiment_reason},
                "topics": [
                    {"topic": t.get("code"), "said": t.get("polarity"), "quote": t.get("quote")}
                    for t in item.topics or []
                    if isinstance(t, dict)
                ],
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
