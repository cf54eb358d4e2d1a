"""Collection forms, as a brand's owners and editors set them up. Each change is recorded."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from testimonials.errors import PermissionDenied
from testimonials.lifecycle.events import record
from testimonials.models import CollectionForm, EventType
from testimonials.selectors import user_can_edit_brand
from testimonials.services.brands import _changed_note


@transaction.atomic
def collection_form_save(
    *, form: CollectionForm, actor, created: bool = False, changed: Iterable[str] = ()
) -> CollectionForm:
    if not user_can_edit_brand(actor, form.brand):
        raise PermissionDenied("Only the brand's owners and editors can change its forms.")
    form.full_clean()
    form.save()
    note = f"Form {form.title!r}: {_changed_note(created, changed)}"
    record(event=EventType.FORM_CHANGE, brand_id=form.brand_id, actor=actor, note=note, data={"form": form.id})
    return form


@transaction.atomic
def collection_form_delete(*, form: CollectionForm, actor) -> None:
    """Delete a form; its testimonials stay (without a form), and widgets showing only it show all again."""
    if not user_can_edit_brand(actor, form.brand):
        raise PermissionDenied("Only the brand's owners and editors can delete its forms.")
    note = f"Form {form.title!r} deleted."
    record(event=EventType.FORM_CHANGE, brand_id=form.brand_id, actor=actor, note=note, data={"form": form.id})
    form.delete()
