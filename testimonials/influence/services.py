"""Influence's writes: share images, the posteriors an auto-ordered widget publishes, and the periodic
refresh that republishes auto widgets whose rollups moved."""

from __future__ import annotations

import hashlib
import logging
import os

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from testimonials.influence import share_image
from testimonials.influence.models import AutoOrderState, ShareImage
from testimonials.influence.sampler import EXPLORATION, posteriors
from testimonials.influence.selectors import counts_digest, widget_goal_counts
from testimonials.models import Testimonial, Widget
from testimonials.widgets.render import auto_pool_size, public_text
from testimonials.widgets.services import widgets_request_publish

log = logging.getLogger(__name__)

SHARE_PREFIX = "share"


# --------------------------------------------------------------------------- share images


def share_image_folder(public_id: str) -> str:
    return f"{SHARE_PREFIX}/{public_id}"


def _share_card(item: Testimonial) -> share_image.ShareCard:
    brand = item.brand
    logo = None
    if brand.logo:
        try:
            with default_storage.open(brand.logo.name, "rb") as handle:
                logo = handle.read()
        except OSError:
            log.warning("The logo of brand %s could not be read for a share image.", brand.id)
    return share_image.ShareCard(
        quote=public_text(item),
        name=item.author_name,
        brand=brand.name,
        rating=item.rating,
        accent=brand.accent_color,
        logo=logo,
    )


def _digest(card: share_image.ShareCard) -> str:
    parts = [
        card.quote,
        card.name,
        card.brand,
        str(card.rating),
        card.accent,
        hashlib.sha256(card.logo or b"").hexdigest(),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def share_image_sync(*, testimonial_id: int | None, public_id: str) -> str:
    """Make the testimonial's share image match it: rendered when it is published and its text, name,
    rating or brand look changed; deleted when it is no longer published or is gone (erased).

    Idempotent (a repeat finds the same digest or nothing to delete). Returns "rendered", "unchanged"
    or "removed".
    """
    item = Testimonial.objects.select_related("brand").filter(id=testimonial_id).first() if testimonial_id else None
    if item is None or item.state != Testimonial.State.APPROVED:
        ShareImage.objects.filter(testimonial_id=testimonial_id).delete() if testimonial_id else None
        share_image_delete_files(public_id=public_id)
        return "removed"
    card = _share_card(item)
    digest = _digest(card)
    current = ShareImage.objects.filter(testimonial=item).first()
    if current is not None and current.digest == digest and default_storage.exists(current.path):
        return "unchanged"
    png = share_image.render(card)
    path = f"{share_image_folder(item.public_id)}/{digest}.png"
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(png))
    with transaction.atomic():
        ShareImage.objects.update_or_create(
            testimonial=item, defaults={"path": path, "digest": digest, "rendered_at": timezone.now()}
        )
    _delete_other_versions(item.public_id, keep=path)
    return "rendered"


def share_image_delete_files(*, public_id: str) -> None:
    """Every share image file of a testimonial (idempotent: erasure and unpublishing call it)."""
    if not public_id:
        return
    _delete_other_versions(public_id, keep=None)
    try:
        # Local storage keeps empty folders; object storage has none to remove.
        os.rmdir(default_storage.path(share_image_folder(public_id)))
    except (NotImplementedError, OSError):
        pass


def _delete_other_versions(public_id: str, *, keep: str | None) -> None:
    folder = share_image_folder(public_id)
    try:
        _dirs, files = default_storage.listdir(folder)
    except (FileNotFoundError, OSError):
        return
    for name in files:
        path = f"{folder}/{name}"
        if path != keep:
            default_storage.delete(path)


# A brand's new look redraws its images this many at a time, one task each (a task stays well inside
# its time limit however many testimonials the brand has; docs/benchmarks.md has the rate).
BRAND_REFRESH_CHUNK = 200


def share_image_brand_refresh(*, brand_id: int, after_id: int = 0) -> int | None:
    """The brand's look changed: bring the next BRAND_REFRESH_CHUNK published testimonials' images (by id,
    after `after_id`) up to date. Returns the last id handled when more may follow, else None.

    Idempotent: an image already matching is left alone, so a repeated chunk costs reads only.
    """
    rows = list(
        Testimonial.objects.filter(brand_id=brand_id, id__gt=after_id)
        .published()
        .order_by("id")
        .values_list("id", "public_id")[:BRAND_REFRESH_CHUNK]
    )
    for tid, pid in rows:
        share_image_sync(testimonial_id=tid, public_id=pid)
    return rows[-1][0] if len(rows) == BRAND_REFRESH_CHUNK else None


# --------------------------------------------------------------------------- the auto order


def widget_posteriors(widget: Widget, testimonials: list[Testimonial]) -> tuple[dict[int, tuple[float, float]], float]:
    """The posterior source the widget renderer calls at publish time: Beta(alpha, beta) per testimonial
    from the widget's rollups (views as trials, the widget's goal as successes), and the exploration share."""
    ids = [t.id for t in testimonials]
    counts = widget_goal_counts(widget=widget, testimonial_ids=ids)
    found = posteriors([counts[tid] for tid in ids])
    return {tid: (p.alpha, p.beta) for tid, p in zip(ids, found, strict=True)}, EXPLORATION


def auto_widgets_refresh() -> list[int]:
    """For beat, every few minutes: republish the auto-ordered widgets whose counts moved since the last
    refresh (the debounced republish). Returns their ids."""
    from testimonials import selectors  # the core's reads

    moved = []
    now = timezone.now()
    for widget in Widget.objects.filter(order=Widget.Order.AUTO).select_related("brand"):
        pool = selectors.testimonial_list_for_widget(widget=widget, limit=auto_pool_size(widget))
        digest = counts_digest(
            widget_goal_counts(widget=widget, testimonial_ids=[t.id for t in pool]), widget.auto_goal
        )
        state, _ = AutoOrderState.objects.get_or_create(widget=widget)
        if state.counts_digest != digest:
            moved.append(widget.id)
            AutoOrderState.objects.filter(widget=widget).update(counts_digest=digest, refreshed_at=now)
    if moved:
        widgets_request_publish(widget_ids=moved)
    return moved
