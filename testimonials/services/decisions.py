"""People's decisions on testimonials. A person always has the last word over automation."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from testimonials.errors import InvalidTransition, PermissionDenied
from testimonials.models import Tag, Testimonial
from testimonials.selectors import user_can_edit_brand
from testimonials.services.events import event_record
from testimonials.widgets.services import widgets_request_publish

State = Testimonial.State


def _require_editor(actor, testimonial: Testimonial) -> None:
    if not user_can_edit_brand(actor, testimonial.brand):
        raise PermissionDenied("Only the brand's owners and editors can moderate its testimonials.")


@transaction.atomic
def _move(
    *, testimonial: Testimonial, actor, to_state: str, action: str, reasons: list[str], note: str = ""
) -> Testimonial:
    _require_editor(actor, testimonial)
    item = Testimonial.objects.select_for_update().get(id=testimonial.id)
    if item.state == to_state:
        return item
    # People may decide at any time, even while the pipeline runs: the pipeline's fenced write then loses.
    if item.state not in (State.RECEIVED, State.PROCESSING) and not item.can_move_to(to_state):
        raise InvalidTransition(f"A testimonial that is {item.get_state_display().lower()} cannot be {action}d.")
    from_state, now = item.state, timezone.now()
    item.state, item.state_changed_at = to_state, now
    item.decided_at = item.decided_at or now
    if to_state == State.REJECTED:
        item.rejection_reason = reasons[0] if reasons else ""
    item.save(update_fields=["state", "state_changed_at", "decided_at", "rejection_reason", "updated_at"])
    event_record(
        testimonial=item,
        action=action,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        reasons=reasons,
        note=note,
    )
    if State.APPROVED in (from_state, to_state):
        widgets_request_publish(brand_id=item.brand_id)
    return item


def testimonial_approve(*, testimonial: Testimonial, actor, note: str = "") -> Testimonial:
    return _move(testimonial=testimonial, actor=actor, to_state=State.APPROVED, action="approve", reasons=[], note=note)


def testimonial_reject(*, testimonial: Testimonial, actor, reason: str) -> Testimonial:
    """Reject for a content reason; the reason is required and recorded."""
    reason = reason.strip()
    if not reason:
        raise InvalidTransition("Say why this testimonial is rejected (for example: spam, abusive, off-topic).")
    return _move(testimonial=testimonial, actor=actor, to_state=State.REJECTED, action="reject", reasons=[reason])


def testimonial_unpublish(*, testimonial: Testimonial, actor, note: str = "") -> Testimonial:
    return _move(
        testimonial=testimonial, actor=actor, to_state=State.PENDING_REVIEW, action="unpublish", reasons=[], note=note
    )


@transaction.atomic
def testimonial_set_featured(*, testimonial: Testimonial, actor, featured: bool) -> Testimonial:
    _require_editor(actor, testimonial)
    if testimonial.featured != featured:
        Testimonial.objects.filter(id=testimonial.id).update(featured=featured, updated_at=timezone.now())
        testimonial.featured = featured
        event_record(
            testimonial=testimonial,
            action="feature" if featured else "unfeature",
            actor=actor,
            from_state=testimonial.state,
            to_state=testimonial.state,
        )
        if testimonial.state == State.APPROVED:
            widgets_request_publish(brand_id=testimonial.brand_id)
    return testimonial


@transaction.atomic
def testimonial_add_tags(*, testimonial: Testimonial, actor, tags: list[Tag]) -> Testimonial:
    _require_editor(actor, testimonial)
    if any(tag.brand_id != testimonial.brand_id for tag in tags):
        raise PermissionDenied("Tags belong to one brand and cannot be used on another's testimonials.")
    testimonial.tags.add(*tags)
    event_record(
        testimonial=testimonial,
        action="tag",
        actor=actor,
        from_state=testimonial.state,
        to_state=testimonial.state,
        reasons=[f"Tagged {', '.join(t.name for t in tags)}"],
    )
    if testimonial.state == State.APPROVED:
        widgets_request_publish(brand_id=testimonial.brand_id)
    return testimonial
