"""A brand's settings and its tags, as its owners and editors change them. Each change is recorded,
and its lifecycle subscribers follow (the brand's widgets are republished)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from testimonials.errors import PermissionDenied
from testimonials.lifecycle.events import record
from testimonials.models import Brand, EventType, Membership, Tag
from testimonials.selectors import brand_role_for_user, user_can_edit_brand


def _changed_note(created: bool, changed: Iterable[str]) -> str:
    if created:
        return "Created."
    changed = sorted(changed)
    return f"Changed {', '.join(changed)}." if changed else "Saved."


@transaction.atomic
def brand_save(*, brand: Brand, actor, created: bool = False, changed: Iterable[str] = ()) -> Brand:
    """Store a brand's settings (owners; creating a brand is for superusers) and record the change."""
    if created and not getattr(actor, "is_superuser", False):
        raise PermissionDenied("Only administrators of this Vouch installation create brands.")
    if not created and brand_role_for_user(actor, brand) != Membership.Role.OWNER:
        raise PermissionDenied("Only the brand's owners can change its settings.")
    brand.full_clean()
    brand.save()
    record(event=EventType.BRAND_CHANGE, brand_id=brand.id, actor=actor, note=_changed_note(created, changed))
    return brand


@transaction.atomic
def tag_save(*, tag: Tag, actor, created: bool = False, changed: Iterable[str] = ()) -> Tag:
    if not user_can_edit_brand(actor, tag.brand):
        raise PermissionDenied("Only the brand's owners and editors can change its tags.")
    tag.full_clean()
    tag.save()
    record(
        event=EventType.TAG_CHANGE,
        brand_id=tag.brand_id,
        actor=actor,
        note=f"Tag {tag.name!r}: {_changed_note(created, changed)}",
    )
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag, actor) -> None:
    if not user_can_edit_brand(actor, tag.brand):
        raise PermissionDenied("Only the brand's owners and editors can delete its tags.")
    record(event=EventType.TAG_CHANGE, brand_id=tag.brand_id, actor=actor, note=f"Tag {tag.name!r} deleted.")
    tag.delete()
