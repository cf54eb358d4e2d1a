"""Recording a change: the audit row and the outbox entry, in the transaction that makes the change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from testimonials import queue
from testimonials.lifecycle.models import TESTIMONIAL_EVENTS, AuditEvent, EventType, OutboxEntry
from testimonials.models import Testimonial, Widget


@dataclass(frozen=True)
class Change:
    """One change to record. Give the testimonial or the widget it is about, or only the brand."""

    event: EventType
    brand_id: int
    testimonial: Testimonial | None = None
    widget: Widget | None = None
    actor: object | None = None  # the person who made it; None for the system
    from_state: str = ""
    to_state: str = ""
    reasons: Sequence[str] = ()
    note: str = ""
    # Small facts subscribers need and the row may no longer hold (ids, paths): never personal data.
    data: dict = field(default_factory=dict)
    # The public id of what changed when it is neither a testimonial nor a widget (an invitation).
    subject: str = ""


def record(
    *,
    event: EventType,
    testimonial: Testimonial | None = None,
    widget: Widget | None = None,
    brand_id: int | None = None,
    actor=None,
    from_state: str = "",
    to_state: str = "",
    reasons: Sequence[str] = (),
    note: str = "",
    data: dict | None = None,
    subject: str = "",
) -> AuditEvent:
    """Record one change: its audit row, and an outbox entry every subscriber hears of after commit.

    Must run inside the transaction that makes the change, so both exist exactly when the change does.
    """
    if brand_id is None:
        brand_id = (testimonial or widget).brand_id
    change = Change(
        event=event,
        brand_id=brand_id,
        testimonial=testimonial,
        widget=widget,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        reasons=reasons,
        note=note,
        data=data or {},
        subject=subject,
    )
    return record_many([change])[0]


def record_many(changes: Sequence[Change]) -> list[AuditEvent]:
    """The bulk form of `record`: two INSERTs for any number of changes, and one hand-off after commit."""
    if not changes:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("Record a change inside the transaction that makes it (transaction.atomic).")
    now = timezone.now()
    audits = AuditEvent.objects.bulk_create([_audit_row(change, now) for change in changes])
    entries = OutboxEntry.objects.bulk_create([_outbox_row(change, now) for change in changes])
    # After commit, one hand-off carries every entry this transaction recorded (a dispatch task).
    from testimonials.lifecycle.tasks import lifecycle_dispatch_task  # tasks import services, which import this

    queue.gather_on_commit(lifecycle_dispatch_task, [entry.id for entry in entries])
    return audits


def _actor_kind(change: Change) -> str:
    return AuditEvent.Actor.HUMAN if change.actor is not None else AuditEvent.Actor.SYSTEM


def _subject(change: Change) -> str:
    if change.subject:
        return change.subject
    thing = change.testimonial if change.event in TESTIMONIAL_EVENTS else change.widget
    return getattr(thing, "public_id", "") or ""


def _audit_row(change: Change, now) -> AuditEvent:
    # An erased testimonial's own trail goes with it; the erasure is kept, naming only the public id.
    testimonial_id = None
    if change.testimonial is not None and change.event != EventType.ERASE:
        testimonial_id = change.testimonial.pk
    widget_id = change.widget.pk if change.widget is not None and change.event != EventType.WIDGET_DELETE else None
    return AuditEvent(
        brand_id=change.brand_id,
        testimonial_id=testimonial_id,
        widget_id=widget_id,
        subject=_subject(change),
        actor_kind=_actor_kind(change),
        actor=change.actor,
        action=change.event,
        from_state=change.from_state,
        to_state=change.to_state,
        reasons=list(change.reasons),
        note=change.note,
        created_at=now,
    )


def _outbox_row(change: Change, now) -> OutboxEntry:
    return OutboxEntry(
        event=change.event,
        brand_id=change.brand_id,
        testimonial_id=change.testimonial.pk if change.testimonial is not None else None,
        widget_id=change.widget.pk if change.widget is not None else None,
        public_id=_subject(change),
        actor_kind=_actor_kind(change),
        from_state=change.from_state,
        to_state=change.to_state,
        data=change.data,
        created_at=now,
    )
