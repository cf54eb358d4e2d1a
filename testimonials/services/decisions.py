"""People's decisions on testimonials: approve, reject, unpublish, feature, tag, edit. A person always
has the last word over automation.

Each decision comes in a bulk form that costs a constant number of queries whatever the number of
rows (lock, check roles, one UPDATE, `record_many`), and a one-row form that raises instead of
reporting. What follows a decision (widgets republished, webhooks) is the lifecycle's business.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from testimonials.errors import ApplicationError, InvalidTransition, PermissionDenied
from testimonials.lifecycle.events import Change, record_many
from testimonials.models import EventType, Tag, Testimonial
from testimonials.moderation.rules import redact
from testimonials.selectors import brand_ids_user_can_edit

State = Testimonial.State
NOT_AN_EDITOR = "Only the brand's owners and editors can moderate its testimonials."


@dataclass(frozen=True)
class Decision:
    """A state change a person makes: where it leads and from which states it may start."""

    verb: str  # "approve": the admin's button and the bulk action read this
    event: EventType
    target: str
    sources: frozenset[str]
    done: str  # "approved": what the messages say


# Approve and reject start wherever TRANSITIONS allows (people may decide while the pipeline
# runs: its fenced write then loses). Unpublish takes a published testimonial back to review.
DECISIONS: dict[str, Decision] = {
    d.verb: d
    for d in (
        Decision(
            "approve",
            EventType.APPROVE,
            State.APPROVED,
            Testimonial.states_that_can_move_to(State.APPROVED),
            "approved",
        ),
        Decision(
            "reject", EventType.REJECT, State.REJECTED, Testimonial.states_that_can_move_to(State.REJECTED), "rejected"
        ),
        Decision("unpublish", EventType.UNPUBLISH, State.PENDING_REVIEW, frozenset({State.APPROVED}), "unpublished"),
    )
}


@dataclass
class BulkResult:
    done: list[Testimonial] = field(default_factory=list)
    refused: list[tuple[Testimonial, ApplicationError]] = field(default_factory=list)

    def raise_first(self) -> None:
        if self.refused:
            raise self.refused[0][1]


def _locked(testimonials: Iterable[Testimonial]) -> list[Testimonial]:
    ids = [t.pk for t in testimonials]
    return list(Testimonial.objects.select_for_update().filter(id__in=ids).order_by("id"))


def _sort_by_role(actor, items: list[Testimonial], result: BulkResult) -> list[Testimonial]:
    """The items the actor may change (one query for every brand among them); the rest refused."""
    editable = brand_ids_user_can_edit(actor, {item.brand_id for item in items})
    allowed = []
    for item in items:
        if item.brand_id in editable:
            allowed.append(item)
        else:
            result.refused.append((item, PermissionDenied(NOT_AN_EDITOR)))
    return allowed


@transaction.atomic
def testimonials_decide(
    *, testimonials: Iterable[Testimonial], actor, verb: str, reason: str = "", note: str = ""
) -> BulkResult:
    """Approve, reject (with a content reason) or unpublish several testimonials at once."""
    decision = DECISIONS[verb]
    reason = reason.strip()
    if verb == "reject" and not reason:
        raise InvalidTransition("Say why this testimonial is rejected (for example: spam, abusive, off-topic).")
    result = BulkResult()
    moving = []
    for item in _sort_by_role(actor, _locked(testimonials), result):
        if item.state == decision.target and verb != "unpublish":
            result.done.append(item)  # already approved, already rejected: nothing to record
        elif item.state not in decision.sources:
            state = item.get_state_display().lower()
            message = f"Only a published testimonial can be {decision.done} (this one: {state})."
            if verb != "unpublish":
                message = f"This testimonial cannot be {decision.done} while its state is {state!r}."
            result.refused.append((item, InvalidTransition(message)))
        else:
            moving.append(item)
    if not moving:
        return result
    now = timezone.now()
    extra = {"rejection_reason": reason} if decision.target == State.REJECTED else {}
    Testimonial.objects.filter(id__in=[item.id for item in moving]).update(
        state=decision.target, state_changed_at=now, decided_at=Coalesce(F("decided_at"), Value(now)), **extra
    )
    if decision.target == State.APPROVED:
        _redact_unprocessed(moving)
    changes = []
    for item in moving:
        changes.append(
            Change(
                event=decision.event,
                brand_id=item.brand_id,
                testimonial=item,
                actor=actor,
                from_state=item.state,
                to_state=decision.target,
                reasons=[reason] if reason else [],
                note=note,
            )
        )
        item.state, item.state_changed_at = decision.target, now
        item.decided_at = item.decided_at or now
        if extra:
            item.rejection_reason = reason
        result.done.append(item)
    record_many(changes)
    return result


def _redact_unprocessed(items: list[Testimonial]) -> None:
    """Give a testimonial approved before processing wrote its public text (received, failed) one now.

    Redaction runs once, when the text is written: widgets and the wall read the stored public text
    and never redact per request (a long text must not cost CPU on every page view).
    """
    missing = [item for item in items if not item.public_text and item.text]
    for item in missing:
        item.public_text = redact(item.text)
    if missing:
        Testimonial.objects.bulk_update(missing, ["public_text"])


def _one(result: BulkResult) -> Testimonial:
    result.raise_first()
    return result.done[0]


def testimonial_approve(*, testimonial: Testimonial, actor, note: str = "") -> Testimonial:
    return _one(testimonials_decide(testimonials=[testimonial], actor=actor, verb="approve", note=note))


def testimonial_reject(*, testimonial: Testimonial, actor, reason: str) -> Testimonial:
    """Reject for a content reason; the reason is required and recorded."""
    return _one(testimonials_decide(testimonials=[testimonial], actor=actor, verb="reject", reason=reason))


def testimonial_unpublish(*, testimonial: Testimonial, actor, note: str = "") -> Testimonial:
    return _one(testimonials_decide(testimonials=[testimonial], actor=actor, verb="unpublish", note=note))


@transaction.atomic
def testimonials_set_featured(*, testimonials: Iterable[Testimonial], actor, featured: bool) -> BulkResult:
    result = BulkResult()
    items = _sort_by_role(actor, _locked(testimonials), result)
    changing = [item for item in items if item.featured != featured]
    Testimonial.objects.filter(id__in=[item.id for item in changing]).update(
        featured=featured, updated_at=timezone.now()
    )
    event = EventType.FEATURE if featured else EventType.UNFEATURE
    record_many(
        [
            Change(event=event, brand_id=i.brand_id, testimonial=i, actor=actor, from_state=i.state, to_state=i.state)
            for i in changing
        ]
    )
    for item in items:
        item.featured = featured
    result.done.extend(items)
    return result


def testimonial_set_featured(*, testimonial: Testimonial, actor, featured: bool) -> Testimonial:
    item = _one(testimonials_set_featured(testimonials=[testimonial], actor=actor, featured=featured))
    testimonial.featured = item.featured
    return testimonial


@transaction.atomic
def testimonials_add_tags(*, testimonials: Iterable[Testimonial], actor, tags: Sequence[Tag]) -> BulkResult:
    """Tag each testimonial with those of `tags` that belong to its own brand."""
    result = BulkResult()
    items = _sort_by_role(actor, _locked(testimonials), result)
    through = Testimonial.tags.through
    links, changes, tagged = [], [], []
    for item in items:
        mine = [tag for tag in tags if tag.brand_id == item.brand_id]
        if not mine:
            continue  # a selection across brands: each testimonial gets its own brand's tags
        links += [through(testimonial_id=item.id, tag_id=tag.id) for tag in mine]
        changes.append(
            Change(
                event=EventType.TAG,
                brand_id=item.brand_id,
                testimonial=item,
                actor=actor,
                from_state=item.state,
                to_state=item.state,
                reasons=[f"Tagged {', '.join(tag.name for tag in mine)}"],
            )
        )
        tagged.append(item)
    through.objects.bulk_create(links, ignore_conflicts=True)
    record_many(changes)
    result.done.extend(tagged)
    return result


def testimonial_add_tags(*, testimonial: Testimonial, actor, tags: list[Tag]) -> Testimonial:
    if any(tag.brand_id != testimonial.brand_id for tag in tags):
        raise PermissionDenied("Tags belong to one brand and cannot be used on another's testimonials.")
    testimonials_add_tags(testimonials=[testimonial], actor=actor, tags=tags).raise_first()
    return testimonial


@transaction.atomic
def testimonial_edit(*, testimonial: Testimonial, actor, public_text: str, highlight: str, note: str) -> Testimonial:
    """Change what is displayed (typo fixes, a chosen highlight); the customer's original text is kept.

    The note says what changed and why; the meaning must not change (the customer agreed to their words).
    """
    result = BulkResult()
    allowed = _sort_by_role(actor, _locked([testimonial]), result)
    result.raise_first()
    item = allowed[0]
    public_text, highlight, note = public_text.strip(), highlight.strip(), note.strip()
    if not public_text:
        raise ApplicationError("The displayed text cannot be empty.", field="public_text")
    if not note:
        raise ApplicationError("Say what you changed and why (for example: fixed a typo).", field="note")
    before = {"public_text": item.public_text, "highlight": item.highlight}
    # Personal data typed into the displayed text is redacted here, once, never when it is shown.
    item.public_text, item.highlight = redact(public_text), redact(highlight)[:300]
    changed = [name for name, value in before.items() if getattr(item, name) != value]
    if not changed:
        return item
    item.save(update_fields=[*changed, "updated_at"])
    record_many(
        [
            Change(
                event=EventType.EDIT,
                brand_id=item.brand_id,
                testimonial=item,
                actor=actor,
                from_state=item.state,
                to_state=item.state,
                reasons=[f"Changed the displayed {' and '.join(n.replace('public_', '') for n in changed)}"],
                note=note,
            )
        ]
    )
    return item
