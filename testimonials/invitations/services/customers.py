"""What invitations hold about a customer, for privacy's export and erasure (GDPR)."""

from __future__ import annotations

import logging

from django.db import transaction

from testimonials.errors import PermissionDenied
from testimonials.invitations import mailbox
from testimonials.invitations.addresses import address_hash, address_key
from testimonials.invitations.models import (
    Delivery,
    ImportIssue,
    Recipient,
    Suppression,
)
from testimonials.invitations.services.statuses import suppression_add
from testimonials.lifecycle.events import Change, record_many
from testimonials.models import AuditEvent, Brand, EventType
from testimonials.selectors import user_can_edit_brand

log = logging.getLogger(__name__)


def _customer_recipients(brand: Brand, email: str):
    return Recipient.objects.filter(brand=brand, email_key=address_key(email))


def invitations_erase_customer(*, brand: Brand, email: str, actor) -> int:
    """Remove a customer from every campaign of the brand: rows, history, messages, report lines, outbox
    files and audit lines. Only a hash of the address stays, on the suppression list, so they are
    never invited again. Returns how many invitations were erased."""
    if not user_can_edit_brand(actor, brand):
        raise PermissionDenied("Only the brand's owners and editors can erase customer data.")
    with transaction.atomic():
        recipients = list(_customer_recipients(brand, email).select_related("campaign"))
        message_ids = list(Delivery.objects.filter(recipient__in=recipients).values_list("message_id", flat=True))
        public_ids = [r.public_id for r in recipients]
        suppression_add(brand_id=brand.id, address=email, reason=Suppression.Reason.ERASED)
        ImportIssue.objects.filter(job__brand=brand, email_hash=address_hash(email)).delete()
        # The trail of what happened to these invitations names them by public id only, but it goes with them.
        AuditEvent.objects.filter(brand=brand, subject__in=public_ids, action__startswith="invitation.").delete()
        record_many(
            [
                Change(
                    event=EventType.INVITATION_ERASED,
                    brand_id=brand.id,
                    actor=actor,
                    subject=r.public_id,
                    reasons=["Erased at the customer's request."],
                    data={"invitation": r.public_id, "campaign": r.campaign.public_id},
                )
                for r in recipients
            ]
        )
        Recipient.objects.filter(id__in=[r.id for r in recipients]).delete()
    # Files last: if this fails, the rows are gone already and the files hold only what was sent.
    mailbox.delete_messages(message_ids)
    log.info("Erased %s invitation(s) of brand %s at the request of user %s", len(recipients), brand.id, actor.pk)
    return len(recipients)


def invitations_export_customer(*, brand: Brand, email: str, actor) -> list[dict]:
    """Every invitation the brand holds for this customer, with its history and messages."""
    if not user_can_edit_brand(actor, brand):
        raise PermissionDenied("Only the brand's owners and editors can export customer data.")
    recipients = _customer_recipients(brand, email).select_related("campaign").prefetch_related("history", "deliveries")
    return [
        {
            "campaign": r.campaign.name,
            "name": r.name,
            "email": r.email,
            "order_id": r.order_id,
            "order_date": r.order_date.isoformat() if r.order_date else None,
            "product": r.product,
            "locale": r.locale,
            "status": r.status,
            "added_at": r.created_at.isoformat(),
            "history": [{"at": e.at.isoformat(), "status": e.to_status, "note": e.note} for e in r.history.all()],
            "messages": [
                {"kind": "invitation" if d.step == 0 else f"reminder {d.step}", "state": d.state,
                 "sent_at": d.sent_at.isoformat() if d.sent_at else None, "message_id": d.message_id}
                for d in r.deliveries.all()
            ],
        }
        for r in recipients
    ]  # fmt: skip
