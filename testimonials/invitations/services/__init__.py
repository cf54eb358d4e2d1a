"""Invitations' writes: campaigns, adding customers (CSV and API alike), every status change of an invited
customer, and what privacy's export and erasure reach. Sending lives in sending.py, CSV jobs in importing.py.
Callers import from here; each module holds one part."""

from testimonials.invitations.services.campaigns import campaign_save, campaign_validate, sender_for
from testimonials.invitations.services.customers import invitations_erase_customer, invitations_export_customer
from testimonials.invitations.services.recipients import (
    AddResult,
    Customer,
    RowIssue,
    _kick_sender,
    first_send_at,
    invitations_add,
    recipients_add,
)
from testimonials.invitations.services.statuses import (
    InvitationRefused,
    _note,
    _record,
    _skip_pending,
    address_is_suppressed,
    bounce_ingest,
    invitation_bounce,
    invitation_mark_clicked,
    invitation_open,
    invitation_unsubscribe,
    invitations_mark_submitted,
    recipient_for_unsubscribe,
    recipient_move,
    suppression_add,
)

__all__ = [
    "AddResult", "Customer", "InvitationRefused", "RowIssue", "_kick_sender", "_note", "_record", "_skip_pending",
    "address_is_suppressed", "bounce_ingest", "campaign_save", "campaign_validate", "first_send_at",
    "invitation_bounce", "invitation_mark_clicked", "invitation_open", "invitation_unsubscribe", "invitations_add",
    "invitations_erase_customer", "invitations_export_customer", "invitations_mark_submitted",
    "recipient_for_unsubscribe", "recipient_move", "recipients_add", "sender_for", "suppression_add",
]  # fmt: skip
