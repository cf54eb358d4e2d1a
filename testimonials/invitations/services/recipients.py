"""Adding customers to a campaign, from a CSV row or an API item alike: checked, de-duplicated, never a
suppressed address, each with its first send time."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from testimonials import queue
from testimonials.errors import PermissionDenied
from testimonials.invitations.addresses import BadAddress, address_hash, address_key, clean_address, one_line
from testimonials.invitations.models import (
    Campaign,
    ImportIssue,
    Recipient,
    RecipientEvent,
    RecipientStatus,
    Suppression,
)
from testimonials.selectors import user_can_edit_brand

log = logging.getLogger(__name__)
Status = RecipientStatus


LOCALE_MAX = 16


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
