"""Invitations' writes: campaigns, adding customers (CSV and API alike), and every status change of a
recipient: clicked, submitted, unsubscribed, bounced. Sending lives in sending.py, CSV jobs in importing.py.

Every status change is a conditional UPDATE from the status it was read in, writes a history row,
and is recorded on the lifecycle (`invitation.*` events) in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from testimonials import queue
from testimonials.errors import ApplicationError, InvalidTransition, PermissionDenied
from testimonials.invitations import tokens
from testimonials.invitations.addresses import BadAddress, address_hash, address_key, clean_address, one_line
from testimonials.invitations.message import TemplateProblem, template_check
from testimonials.invitations.models import (
    MAX_REMINDERS,
    OPEN_STATUSES,
    Campaign,
    Delivery,
    ImportIssue,
    Recipient,
    RecipientEvent,
    RecipientStatus,
    SenderProfile,
    Suppression,
)
from testimonials.lifecycle.events import Change, record, record_many
from testimonials.models import AuditEvent, Brand, EventType, Testimonial
from testimonials.selectors import user_can_edit_brand

log = logging.getLogger(__name__)
Status = RecipientStatus
LOCALE_MAX = 16


# --------------------------------------------------------------------------- campaigns


def campaign_validate(campaign: Campaign) -> None:
    """The campaign's own rules, as ValidationError per field (the admin shows them beside the fields)."""
    errors: dict[str, list[str]] = {}
    if campaign.form_id and campaign.brand_id and campaign.form.brand_id != campaign.brand_id:
        errors.setdefault("form", []).append("Choose one of this brand's forms.")
    for name in ("subject", "body"):
        try:
            template_check(getattr(campaign, name) or "")
        except TemplateProblem as problem:
            errors.setdefault(name, []).append(problem.message)
    days = campaign.reminder_days
    if not isinstance(days, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in days):
        errors.setdefault("reminder_days", []).append("Write the reminders as a list of days, like [5, 12].")
    elif len(days) > MAX_REMINDERS:
        errors.setdefault("reminder_days", []).append(f"Remind at most {MAX_REMINDERS} times: more is not polite.")
    elif any(d < 1 or d > 60 for d in days) or days != sorted(set(days)):
        errors.setdefault("reminder_days", []).append("Use increasing days between 1 and 60, like [5, 12].")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def campaign_save(*, campaign: Campaign, actor) -> Campaign:
    """Create or change a campaign. Raises PermissionDenied (viewers, outsiders) or ValidationError (bad settings)."""
    if not user_can_edit_brand(actor, campaign.brand):
        raise PermissionDenied("Only the brand's owners and editors can set up invitations.")
    if campaign.created_by_id is None and getattr(actor, "pk", None):
        campaign.created_by = actor
    campaign.full_clean()
    campaign_validate(campaign)
    campaign.save()
    return campaign


def sender_for(brand: Brand) -> SenderProfile:
    """The brand's sender settings, or unsaved defaults (its name, no reply-to, the installation's cap)."""
    return SenderProfile.objects.filter(brand=brand).first() or SenderProfile(brand=brand)


# --------------------------------------------------------------------------- adding customers


@dataclass(frozen=True)
class Customer:
    """One customer to invite, as a CSV row or an API item gave it (not yet checked)."""

    email: str
    name: str = ""
    order_id: str = ""
    order_date: date | None = None
    product: str = ""
    locale: str = ""
    row_number: int | None = None  # the CSV row (header = 1), or the item's index in an API call


@dataclass(frozen=True)
class RowIssue:
    row_number: int | None
    kind: str  # ImportIssue.Kind
    message: str
    value: str = ""


@dataclass
class AddResult:
    added: list[Recipient] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for issue in self.issues if issue.kind == kind)


def _check_customer(customer: Customer) -> tuple[str, RowIssue | None]:
    """The cleaned address, or the reason the row cannot be added."""
    row = customer.row_number
    try:
        address = clean_address(customer.email)
    except BadAddress as bad:
        kind = ImportIssue.Kind.MISSING if not (customer.email or "").strip() else ImportIssue.Kind.INVALID_EMAIL
        return "", RowIssue(row, kind, bad.message, (customer.email or "")[:254])
    limits = (("name", 120), ("order_id", 64), ("product", 200), ("locale", LOCALE_MAX))
    for name, limit in limits:
        if len(getattr(customer, name) or "") > limit:
            return "", RowIssue(
                row,
                ImportIssue.Kind.INVALID_VALUE,
                f"The {name.replace('_', ' ')} is over {limit} characters.",
                address,
            )
    if not (customer.name or "").strip():
        return "", RowIssue(row, ImportIssue.Kind.MISSING, "The customer's name is missing.", address)
    return address, None


def first_send_at(campaign: Campaign, order_date: date | None, now: datetime) -> datetime:
    """When the invitation goes out: the chosen delay after the order date (or the upload), never in the past."""
    start = now
    if campaign.delay_from == Campaign.DelayFrom.ORDER_DATE and order_date is not None:
        start = timezone.make_aware(datetime.combine(order_date, time(9, 0)))
    return max(now, start + timedelta(days=campaign.delay_days))


def recipients_add(
    *,
    campaign: Campaign,
    customers: Sequence[Customer],
    source: str,
    import_job=None,
    now: datetime | None = None,
) -> AddResult:
    """Add customers to a campaign, refusing bad rows, duplicates and suppressed addresses (with reasons).

    Idempotent: an address already in the campaign is a duplicate, so a re-uploaded file, a resumed
    import or a retried API call adds nobody twice (a unique constraint holds it under races too).
    Constant query cost per call, whatever the number of customers. Runs in the caller's transaction.
    """
    now = now or timezone.now()
    result = AddResult()
    candidates: dict[str, tuple[Customer, str]] = {}
    for customer in customers:
        address, issue = _check_customer(customer)
        if issue is not None:
            result.issues.append(issue)
            continue
        key = address_key(address)
        if key in candidates:
            first = candidates[key][0].row_number
            where = f" (row {first})" if first is not None else ""
            message = f"The same address appears earlier{where}."
            result.issues.append(RowIssue(customer.row_number, ImportIssue.Kind.DUPLICATE, message, address))
            continue
        candidates[key] = (customer, address)
    if not candidates:
        return result
    existing = set(
        Recipient.objects.filter(campaign=campaign, email_key__in=list(candidates)).values_list("email_key", flat=True)
    )
    hashes = {address_hash(key): key for key in candidates}
    suppressed = {
        hashes[h]
        for h in Suppression.objects.filter(brand_id=campaign.brand_id, email_hash__in=list(hashes)).values_list(
            "email_hash", flat=True
        )
    }
    rows = []
    for key, (customer, address) in candidates.items():
        if key in suppressed:
            message = "This address unsubscribed, bounced or was erased: it is never invited again."
            result.issues.append(RowIssue(customer.row_number, ImportIssue.Kind.SUPPRESSED, message, address))
        elif key in existing:
            message = "Already invited in this campaign."
            result.issues.append(RowIssue(customer.row_number, ImportIssue.Kind.DUPLICATE, message, address))
        else:
            rows.append(_new_recipient(campaign, customer, address, key, source, import_job, now))
    if rows:
        # ignore_conflicts: an address a concurrent call added a moment ago is skipped, not an error.
        Recipient.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        created = Recipient.objects.filter(public_id__in=[r.public_id for r in rows])
        result.added = list(created.only("id", "public_id", "email_key", "row_number"))
        added_keys = {r.email_key for r in result.added}
        for row in rows:
            if row.email_key not in added_keys:
                issue = RowIssue(
                    row.row_number, ImportIssue.Kind.DUPLICATE, "Already invited in this campaign.", row.email
                )
                result.issues.append(issue)
        how = f"Added from CSV row {{row}} ({import_job.original_name})" if import_job else "Added through the API"
        RecipientEvent.objects.bulk_create(
            [
                RecipientEvent(
                    recipient_id=r.id, to_status=Status.QUEUED, note=how.format(row=r.row_number) + ".", at=now
                )
                for r in result.added
            ],
            batch_size=500,
        )
    return result


def _new_recipient(campaign, customer: Customer, address: str, key: str, source, import_job, now) -> Recipient:
    locale = (customer.locale or "").strip().replace("_", "-")
    return Recipient(
        campaign=campaign,
        brand_id=campaign.brand_id,
        name=one_line(customer.name, 120),
        email=address,
        email_key=key,
        order_id=one_line(customer.order_id, 64),
        order_date=customer.order_date,
        product=one_line(customer.product, 200),
        locale=locale,
        status=Status.QUEUED,
        status_changed_at=now,
        next_send_at=first_send_at(campaign, customer.order_date, now),
        source=source,
        import_job=import_job,
        row_number=customer.row_number,
        created_at=now,
    )


def invitations_add(*, campaign: Campaign, customers: Sequence[Customer], actor) -> AddResult:
    """Customers posted through the API: added at once, sent when due. Raises PermissionDenied for viewers."""
    if not user_can_edit_brand(actor, campaign.brand):
        raise PermissionDenied("Only the brand's owners and editors can invite customers.")
    with transaction.atomic():
        result = recipients_add(campaign=campaign, customers=customers, source=Recipient.Source.API)
        if result.added:
            _kick_sender()
    return result


def _kick_sender() -> None:
    """Customers due at once go out now, not at the next beat."""
    from testimonials.invitations.tasks import invitations_tick_task  # tasks import this module

    queue.send_on_commit(invitations_tick_task)


# --------------------------------------------------------------------------- status changes


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


# --------------------------------------------------------------------------- privacy


def _customer_recipients(brand: Brand, email: str):
    return Recipient.objects.filter(brand=brand, email_key=address_key(email))


def invitations_erase_customer(*, brand: Brand, email: str, actor) -> int:
    """Remove a customer from every campaign of the brand: rows, history, messages, report lines, outbox
    files and audit lines. Only a hash of the address stays, on the suppression list, so they are
    never invited again. Returns how many invitations were erased."""
    from testimonials.invitations import mailbox

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
