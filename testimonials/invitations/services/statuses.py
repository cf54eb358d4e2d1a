"""Every status change of an invited customer: clicked, submitted, unsubscribed, bounced.

Each is a conditional UPDATE from the status it was read in (or made under a row lock), writes a history
row, and is recorded on the lifecycle (`invitation.*` events) in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from testimonials.errors import ApplicationError, InvalidTransition
from testimonials.invitations import tokens
from testimonials.invitations.addresses import address_hash, one_line
from testimonials.invitations.models import (
    OPEN_STATUSES,
    Delivery,
    Recipient,
    RecipientEvent,
    RecipientStatus,
    Suppression,
)
from testimonials.lifecycle.events import record
from testimonials.models import Brand, EventType, Testimonial

log = logging.getLogger(__name__)
Status = RecipientStatus


def _record(event: EventType, recipient: Recipient, *, testimonial=None, note: str = "", **data) -> None:
    record(
        event=event,
        brand_id=recipient.brand_id,
        testimonial=testimonial,
        subject=recipient.public_id,
        from_state=data.pop("from_status", ""),
        to_state=data.pop("to_status", ""),
        note=note,
        data={"invitation": recipient.public_id, "campaign": recipient.campaign.public_id, **data},
    )


def recipient_move(recipient: Recipient, to: str, *, note: str, now: datetime | None = None, **fields) -> bool:
    """Move a recipient to `to` if it is still in the status it was read in; writes the history row.

    Returns False when another process changed it first (the caller reloads). Raises InvalidTransition
    for a change the vocabulary forbids. Must run inside a transaction.
    """
    if not recipient.can_move_to(to):
        raise InvalidTransition(f"An invitation cannot go from {recipient.status} to {to}.")
    now = now or timezone.now()
    changed = Recipient.objects.filter(pk=recipient.pk, status=recipient.status).update(
        status=to, status_changed_at=now, **fields
    )
    if not changed:
        return False
    RecipientEvent.objects.create(recipient=recipient, from_status=recipient.status, to_status=to, note=note, at=now)
    recipient.status, recipient.status_changed_at = to, now
    for name, value in fields.items():
        setattr(recipient, name, value)
    return True


def _note(recipient: Recipient, note: str, now: datetime) -> None:
    """A history line without a status change (a reminder sent, an answer after unsubscribing)."""
    RecipientEvent.objects.create(
        recipient=recipient, from_status=recipient.status, to_status=recipient.status, note=note, at=now
    )


def _skip_pending(recipient_ids: Iterable[int]) -> None:
    """Messages not yet handed to the mail server are no longer needed."""
    Delivery.objects.filter(
        recipient_id__in=list(recipient_ids), state__in=[Delivery.State.PREPARED, Delivery.State.DEFERRED]
    ).update(state=Delivery.State.SKIPPED)


class InvitationRefused(ApplicationError):
    """An invitation link that cannot open the form, with a message written for the customer."""

    def __init__(self, message: str, *, code: str, brand: Brand | None = None, status: int = 400):
        super().__init__(message, code=code)
        self.brand = brand
        self.status = status


def _recipient_for_link(public_id: str) -> Recipient | None:
    return (
        Recipient.objects.select_related("campaign", "campaign__form", "campaign__form__brand", "brand")
        .filter(public_id=public_id)
        .first()
    )


def invitation_open(*, token: str, record_click: bool = True) -> Recipient:
    """The recipient an invitation link belongs to, recording the first click. Raises InvitationRefused
    for a forged, expired or already used link, or a form that no longer takes testimonials."""
    try:
        public_id = tokens.link_token_read(token)
    except tokens.TokenRefused as refused:
        recipient = _recipient_for_link(refused.public_id) if refused.public_id else None
        if refused.code == "expired" and recipient is not None:
            raise InvitationRefused(
                f"This invitation has expired. If you would still like to tell {recipient.brand.name} about your "
                "experience, please ask them for a new link.",
                code="expired",
                brand=recipient.brand,
                status=410,
            ) from None
        raise InvitationRefused(
            "This invitation link is not valid. Please open the link from your email exactly as it was sent.",
            code="bad_link",
        ) from None
    recipient = _recipient_for_link(public_id)
    if recipient is None:
        raise InvitationRefused("This invitation link is no longer valid.", code="gone", status=410)
    brand = recipient.brand
    if (
        recipient.status == Status.SUBMITTED
        or Testimonial.objects.filter(submission_key=recipient.submission_key).exists()
    ):
        raise InvitationRefused(
            f"You have already sent your testimonial through this link. Thank you — {brand.name} has received it.",
            code="used",
            brand=brand,
            status=410,
        )
    if not recipient.campaign.form.is_active:
        raise InvitationRefused(
            f"{brand.name} is not collecting testimonials with this form any more. Thank you all the same!",
            code="closed",
            brand=brand,
            status=410,
        )
    if record_click and recipient.clicked_at is None:
        invitation_mark_clicked(recipient=recipient)
    return recipient


@transaction.atomic
def invitation_mark_clicked(*, recipient: Recipient) -> bool:
    """Record the first opening of the link (status `clicked` when it was `sent`). False if already recorded."""
    now = timezone.now()
    if not Recipient.objects.filter(pk=recipient.pk, clicked_at__isnull=True).update(clicked_at=now):
        return False
    recipient.clicked_at = now
    previous = recipient.status
    if recipient.status == Status.SENT:
        recipient_move(recipient, Status.CLICKED, note="Opened the invitation link.", now=now)
    else:
        _note(recipient, "Opened the invitation link.", now)
    _record(EventType.INVITATION_CLICKED, recipient, from_status=previous, to_status=recipient.status)
    return True


@transaction.atomic
def invitations_mark_submitted(*, testimonial_ids: Iterable[int]) -> int:
    """Invited customers whose testimonial arrived: reminders stop, the funnel counts them. Idempotent.

    Called by the lifecycle subscriber for every received testimonial; only those sent through an
    invitation link (source=invite, verified) carry an invitation's key.
    """
    testimonials = list(
        Testimonial.objects.filter(
            id__in=list(testimonial_ids), source=Testimonial.Source.INVITE, submission_key__startswith="invite:"
        ).only("id", "public_id", "brand_id", "submission_key", "created_at")
    )
    by_public_id = {t.submission_key.split(":", 1)[1]: t for t in testimonials}
    if not by_public_id:
        return 0
    marked = 0
    recipients = (
        Recipient.objects.select_for_update().select_related("campaign").filter(public_id__in=list(by_public_id))
    )
    for recipient in recipients.order_by("id"):
        testimonial = by_public_id[recipient.public_id]
        if recipient.testimonial_id == testimonial.id or testimonial.brand_id != recipient.brand_id:
            continue
        now = timezone.now()
        previous = recipient.status
        done = {"submitted_at": testimonial.created_at, "testimonial": testimonial, "next_send_at": None}
        if recipient.can_move_to(Status.SUBMITTED):
            recipient_move(
                recipient, Status.SUBMITTED, note=f"Sent testimonial {testimonial.public_id}.", now=now, **done
            )
        else:
            # Unsubscribed (or bounced) and answered all the same: the answer counts, the status stays.
            Recipient.objects.filter(pk=recipient.pk).update(**done)
            _note(recipient, f"Sent testimonial {testimonial.public_id}.", now)
        _skip_pending([recipient.id])
        _record(
            EventType.INVITATION_SUBMITTED,
            recipient,
            testimonial=testimonial,
            from_status=previous,
            to_status=recipient.status,
            testimonial_id=testimonial.public_id,
        )
        marked += 1
    return marked


def suppression_add(*, brand_id: int, address: str, reason: str) -> bool:
    """Never write to this address again for this brand; True if it was not suppressed yet. Only its hash is kept."""
    try:
        with transaction.atomic():
            _, created = Suppression.objects.get_or_create(
                brand_id=brand_id, email_hash=address_hash(address), defaults={"reason": reason}
            )
    except IntegrityError:  # a concurrent unsubscribe of the same address
        return False
    return created


def address_is_suppressed(*, brand_id: int, address: str) -> bool:
    return Suppression.objects.filter(brand_id=brand_id, email_hash=address_hash(address)).exists()


def recipient_for_unsubscribe(*, token: str) -> Recipient | None:
    """The recipient an unsubscribe link names, or None when they were erased (their address is suppressed
    already). Raises InvitationRefused for a forged or mangled link."""
    try:
        public_id = tokens.unsubscribe_token_read(token)
    except tokens.TokenRefused:
        raise InvitationRefused(
            "This unsubscribe link is not valid. Please open the link from your email exactly as it was sent.",
            code="bad_link",
        ) from None
    return Recipient.objects.select_related("brand", "campaign").filter(public_id=public_id).first()


@transaction.atomic
def invitation_unsubscribe(*, recipient: Recipient, how: str = "one-click") -> bool:
    """Stop every invitation from this brand to this address, at once (RFC 8058). Idempotent.

    Adds the address's hash to the brand's suppression list, stops this recipient's reminders and
    skips any message not yet handed to the mail server. True when something changed.
    """
    now = timezone.now()
    recipient = Recipient.objects.select_for_update().select_related("campaign").get(pk=recipient.pk)
    newly = suppression_add(
        brand_id=recipient.brand_id, address=recipient.email, reason=Suppression.Reason.UNSUBSCRIBED
    )
    previous = recipient.status
    moved = False
    if recipient.status in OPEN_STATUSES:
        moved = recipient_move(
            recipient, Status.UNSUBSCRIBED, note=f"Unsubscribed ({how}).", now=now, next_send_at=None
        )
    elif newly:
        _note(recipient, f"Unsubscribed ({how}).", now)
    # Every other open invitation of this brand to the same address stops too.
    others = list(
        Recipient.objects.select_for_update()
        .select_related("campaign")
        .filter(brand_id=recipient.brand_id, email_key=recipient.email_key, status__in=OPEN_STATUSES)
        .exclude(pk=recipient.pk)
    )
    for other in others:
        recipient_move(
            other, Status.UNSUBSCRIBED, note=f"Unsubscribed from another campaign ({how}).", now=now, next_send_at=None
        )
    _skip_pending([recipient.id, *[o.id for o in others]])
    if moved or newly:
        _record(EventType.INVITATION_UNSUBSCRIBED, recipient, from_status=previous, to_status=recipient.status)
    return moved or newly or bool(others)


@transaction.atomic
def invitation_bounce(*, recipient: Recipient, reason: str) -> bool:
    """A hard bounce: the address is suppressed for the brand and nothing more is sent. Idempotent."""
    now = timezone.now()
    recipient = Recipient.objects.select_for_update().select_related("campaign").get(pk=recipient.pk)
    suppression_add(brand_id=recipient.brand_id, address=recipient.email, reason=Suppression.Reason.BOUNCED)
    previous = recipient.status
    if not recipient.can_move_to(Status.BOUNCED):
        return False
    recipient_move(
        recipient,
        Status.BOUNCED,
        note=f"Bounced: {one_line(reason, 300)}",
        now=now,
        next_send_at=None,
        error=reason[:2000],
    )
    _skip_pending([recipient.id])
    _record(EventType.INVITATION_BOUNCED, recipient, from_status=previous, to_status=Status.BOUNCED)
    return True


def bounce_ingest(*, raw: bytes) -> list[str]:
    """Read a bounce (a DSN sent to the bounce address): a permanent failure bounces its invitation and
    suppresses the address; a temporary one changes nothing. Returns one line per reported recipient."""
    from testimonials.invitations import dsn

    outcomes = []
    for bounce in dsn.parse(raw):
        found = Delivery.objects.select_related("recipient")
        delivery = None
        if bounce.delivery_public_id:
            delivery = found.filter(public_id=bounce.delivery_public_id).first()
        if delivery is None and bounce.message_id:
            delivery = found.filter(message_id=bounce.message_id).first()
        if delivery is None:
            outcomes.append(f"{bounce.status}: no invitation of ours matches this bounce; nothing done.")
        elif not bounce.permanent:
            outcomes.append(f"{bounce.status}: a temporary failure for {delivery.public_id}; nothing done.")
        else:
            reason = one_line(f"{bounce.status} {bounce.diagnostic}", 1000)
            done = invitation_bounce(recipient=delivery.recipient, reason=reason)
            outcomes.append(
                f"{bounce.status}: {delivery.public_id} {'bounced' if done else 'already final'}; address suppressed."
            )
    return outcomes
