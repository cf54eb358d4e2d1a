"""Collection forms, as a brand's owners and editors set them up. Each change is recorded."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from testimonials.errors import PermissionDenied
from testimonials.lifecycle.events import record
from testimonials.models import CollectionForm, EventType, FormQuestion
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


@transaction.atomic
def collection_form_questions_save(
    *, form: CollectionForm, actor, saved: Sequence[FormQuestion] = (), deleted: Sequence[FormQuestion] = ()
) -> list[FormQuestion]:
    """Store the form's own questions as the brand arranged them (typed, ordered, required) and record it.

    Each question is validated (a choice question needs two choices); answers already given keep the
    question's wording, so removing or rewording one never changes a testimonial.
    """
    if not user_can_edit_brand(actor, form.brand):
        raise PermissionDenied("Only the brand's owners and editors can change its forms.")
    if any(q.form_id not in (None, form.id) for q in [*saved, *deleted]):
        raise PermissionDenied("These questions belong to another form.")
    removed = [q.label for q in deleted if q.pk]
    FormQuestion.objects.filter(form=form, id__in=[q.pk for q in deleted if q.pk]).delete()
    added, changed = [], []
    for question in saved:
        question.form = form
        question.full_clean()
        (changed if question.pk else added).append(question.label)
        question.save()
    if added or changed or removed:
        parts = [
            f"{verb} {', '.join(repr(label) for label in labels)}"
            for verb, labels in (("added", added), ("changed", changed), ("removed", removed))
            if labels
        ]
        note = f"Form {form.title!r}: questions {'; '.join(parts)}."
        record(event=EventType.FORM_CHANGE, brand_id=form.brand_id, actor=actor, note=note, data={"form": form.id})
    return list(form.questions.all())


def _free_slug(form: CollectionForm) -> str:
    taken = set(CollectionForm.objects.filter(brand_id=form.brand_id).values_list("slug", flat=True))
    base = f"{form.slug}-copy"[:55]
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def collection_form_duplicate(*, form: CollectionForm, actor) -> CollectionForm:
    """A copy of a form with its questions and settings, under a free slug, to adapt for another use."""
    if not user_can_edit_brand(actor, form.brand):
        raise PermissionDenied("Only the brand's owners and editors can change its forms.")
    questions = list(form.questions.all())
    copy = CollectionForm.objects.get(pk=form.pk)
    copy.pk = copy.id = None
    copy._state.adding = True
    copy.slug = _free_slug(form)
    copy.title = f"{form.title} (copy)"[:160]
    copy.created_at = timezone.now()
    copy.full_clean()
    copy.save()
    FormQuestion.objects.bulk_create(
        FormQuestion(form=copy, position=q.position, label=q.label, kind=q.kind, required=q.required, choices=q.choices)
        for q in questions
    )
    note = f"Form {copy.title!r}: created as a copy of {form.title!r}."
    record(event=EventType.FORM_CHANGE, brand_id=copy.brand_id, actor=actor, note=note, data={"form": copy.id})
    return copy
