"""Invitations follow the lifecycle: when an invited customer's testimonial is received, their reminders
stop and the funnel counts them as submitted. Also registers what invitations hold about a customer
with privacy's export and erasure (testimonials/privacy/services.py)."""

from __future__ import annotations

from testimonials.invitations import checks  # noqa: F401 - registers the deployment check with Django
from testimonials.invitations.services import (
    invitations_erase_customer,
    invitations_export_customer,
    invitations_mark_submitted,
)
from testimonials.lifecycle.models import EventType, OutboxEntry
from testimonials.lifecycle.subscribers import subscribe
from testimonials.privacy.services import customer_data_holder


def invitations_follow_lifecycle(entries: list[OutboxEntry]) -> None:
    # Idempotent: a recipient already linked to its testimonial is skipped.
    invitations_mark_submitted(testimonial_ids=[e.testimonial_id for e in entries if e.testimonial_id])


subscribe("invitations", events=[EventType.RECEIVED], handler=invitations_follow_lifecycle)
customer_data_holder("invitations", export=invitations_export_customer, erase=invitations_erase_customer)
