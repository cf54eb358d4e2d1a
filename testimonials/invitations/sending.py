"""Sending invitations and reminders: plan what is due, send it, and never send anything twice.

1. `invitations_plan` turns due recipients into `prepared` deliveries, each with its Message-ID,
   committed before any SMTP transaction begins, within each brand's daily cap.
2. `invitations_send` sends prepared messages (and deferred ones whose retry time came). Each one is
   claimed with a conditional UPDATE to `sending` committed right before its SMTP transaction, and
   marked `sent` right after (in the next claim's commit). A temporary error (4xx, a timeout) defers it
   with backoff (queue.INVITE_SEND_RETRY); a permanent one (5xx) fails the recipient with the server's
   reason. Recipients' bookkeeping and lifecycle events follow per group of messages.
3. What a worker that died leaves behind is dealt with in upkeep.py: never sent twice.
"""

from __future__ import annotations

import logging
import smtplib
import time as clock
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from testimonials import queue
from testimonials.collection.abuse import Rate, parse_rate
from testimonials.invitations import message
from testimonials.invitations.addresses import address_hash, one_line
from testimonials.invitations.composing import compose, sender_info
from testimonials.invitations.models import (
    OPEN_STATUSES,
    Delivery,
    Recipient,
    RecipientEvent,
    RecipientStatus,
    SenderProfile,
    Suppression,
)
from testimonials.invitations.services import (
    _record,
    invitations_mark_submitted,
    recipient_move,
)
from testimonials.lifecycle.events import Change, record_many
from testimonials.models import EventType, Testimonial

log = logging.getLogger(__name__)
State = Delivery.State
Status = RecipientStatus

PLAN_BATCH = 1000
SEND_BATCH = 200
# A send task stops taking new messages after this long and hands the rest to the next task, so a
# large campaign never holds a worker past its time limit (or the text queue for long).
SEND_DEADLINE_SECONDS = 25.0
# Messages whose recipients' bookkeeping and lifecycle events commit together (see invitations_send).
SEND_GROUP = 50


# --------------------------------------------------------------------------- planning


def _day_start(now: datetime) -> datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def _room_today(now: datetime) -> tuple[dict[int, int], dict[int, int]]:
    """Messages each brand planned today, and the brands' own caps (others use VOUCH_INVITE_DAILY_CAP)."""
    planned = dict(
        Delivery.objects.filter(planned_at__gte=_day_start(now))
        .values("brand_id")
        .annotate(n=Count("id"))
        .values_list("brand_id", "n")
    )
    caps = dict(SenderProfile.objects.filter(daily_cap__isnull=False).values_list("brand_id", "daily_cap"))
    return planned, caps


@transaction.atomic
def invitations_plan(*, now: datetime | None = None, limit: int = PLAN_BATCH) -> int:
    """Give each due recipient its next message (invitation or reminder), with its Message-ID, within
    each brand's daily cap. Reads only due rows (a partial index): its cost follows what is due, not
    how many invitations are open. Safe to run concurrently (SKIP LOCKED). Returns how many were planned."""
    now = now or timezone.now()
    planned, caps = _room_today(now)
    default_cap = settings.VOUCH_INVITE_DAILY_CAP
    full = [brand_id for brand_id, n in planned.items() if n >= caps.get(brand_id, default_cap)]
    due = (
        Recipient.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(next_send_at__lte=now, status__in=OPEN_STATUSES, campaign__is_active=True)
        .exclude(brand_id__in=full)
        .order_by("next_send_at")
        .only("id", "brand_id", "messages_sent")[:limit]
    )
    room: dict[int, int] = {}
    chosen = []
    for recipient in due:
        left = room.setdefault(
            recipient.brand_id, caps.get(recipient.brand_id, default_cap) - planned.get(recipient.brand_id, 0)
        )
        if left <= 0:
            continue  # stays due: it goes out tomorrow
        room[recipient.brand_id] = left - 1
        chosen.append(recipient)
    if not chosen:
        return 0
    Delivery.objects.bulk_create(
        [
            Delivery(
                recipient_id=r.id,
                brand_id=r.brand_id,
                step=r.messages_sent,
                message_id=message.new_message_id(),
                planned_at=now,
            )
            for r in chosen
        ],
        ignore_conflicts=True,  # a step already planned (a concurrent planner) is not planned twice
    )
    Recipient.objects.filter(id__in=[r.id for r in chosen]).update(next_send_at=None)
    return len(chosen)


# --------------------------------------------------------------------------- sending


@dataclass
class SendResult:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    skipped: int = 0
    more: bool = False  # messages are still waiting: send again


@dataclass(frozen=True)
class Verdict:
    permanent: bool
    reason: str
    reconnect: bool = False
    stop: bool = False  # the server refuses us, not this customer: stop this batch


def _reply(code: int, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return one_line(f"{code} {text}", 1000)


def classify(exc: smtplib.SMTPException | OSError) -> Verdict:
    """What an SMTP error means for the message: 5xx permanent, 4xx and lost connections temporary."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return Verdict(permanent=500 <= code < 600, reason=_reply(code, text))
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError | smtplib.SMTPNotSupportedError):
        reason = _reply(exc.smtp_code, exc.smtp_error) if hasattr(exc, "smtp_code") else str(exc)
        return Verdict(
            permanent=False, reason=f"The mail server refused our sender: {reason}", reconnect=True, stop=True
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return Verdict(permanent=500 <= code < 600, reason=_reply(code, exc.smtp_error), reconnect=code == 421)
    if isinstance(exc, ConnectionRefusedError):
        return Verdict(permanent=False, reason="The mail server refused the connection.", reconnect=True, stop=True)
    # Disconnected, timed out, reset.
    return Verdict(permanent=False, reason=one_line(f"{type(exc).__name__}: {exc}", 1000), reconnect=True)


def _take_send_slot(rate: Rate | None) -> None:
    """Wait for a slot in the installation-wide send rate (a fixed window shared through the cache)."""
    if rate is None:
        return
    while True:
        now = clock.time()
        window = int(now // rate.seconds)
        key = f"vouch:invite-send:{window}"
        if cache.add(key, 1, timeout=rate.seconds + 5):
            return
        try:
            used = cache.incr(key)
        except ValueError:  # the window's counter expired between add and incr
            continue
        if used <= rate.count:
            return
        clock.sleep(max(0.001, (window + 1) * rate.seconds - now))


def _load_group(ids: list[int]) -> list[Delivery]:
    found = Delivery.objects.select_related(
        "recipient", "recipient__campaign", "recipient__campaign__form", "recipient__brand"
    ).filter(id__in=ids, state__in=[State.PREPARED, State.DEFERRED])
    by_id = {d.id: d for d in found}
    return [by_id[i] for i in ids if i in by_id]


def _not_needed(group: list[Delivery]) -> dict[int, str]:
    """Why messages of this group should not go out any more, by delivery id, in two queries for the group.

    Read just before the group is sent (seconds at most before each message): a customer who answered
    or unsubscribed a moment ago is caught here even if the lifecycle has not told us yet.
    """
    why: dict[int, str] = {}
    keys = {d.recipient.submission_key for d in group}
    answered = dict(Testimonial.objects.filter(submission_key__in=list(keys)).values_list("submission_key", "id"))
    if answered:
        invitations_mark_submitted(testimonial_ids=list(answered.values()))
    pairs = {(d.recipient.brand_id, address_hash(d.recipient.email)) for d in group}
    suppressed = set(
        Suppression.objects.filter(
            brand_id__in={b for b, _ in pairs}, email_hash__in=[h for _, h in pairs]
        ).values_list("brand_id", "email_hash")
    )
    for delivery in group:
        recipient = delivery.recipient
        if recipient.submission_key in answered:
            why[delivery.id] = "the customer already sent a testimonial"
        elif recipient.status not in OPEN_STATUSES:
            why[delivery.id] = f"the invitation is {recipient.get_status_display().lower()}"
        elif (recipient.brand_id, address_hash(recipient.email)) in suppressed:
            why[delivery.id] = "the address is on the brand's suppression list"
    return why


def _claim(delivery: Delivery) -> bool:
    """Take this message for this process, in its own commit, right before its SMTP transaction."""
    claimed = Delivery.objects.filter(pk=delivery.pk, state=delivery.state, attempts=delivery.attempts).update(
        state=State.SENDING, sending_at=timezone.now(), attempts=F("attempts") + 1
    )
    delivery.attempts += 1
    return bool(claimed)


def pending_deliveries(now: datetime | None = None):
    now = now or timezone.now()
    return Delivery.objects.filter(Q(state=State.PREPARED) | Q(state=State.DEFERRED, retry_at__lte=now))


def invitations_send(*, limit: int = SEND_BATCH, deadline: float = SEND_DEADLINE_SECONDS) -> SendResult:
    """Send prepared messages, one SMTP transaction each over one connection. Safe to run concurrently:
    each message is claimed on its own, and a message claimed by another process is skipped.

    Per message, only what crash safety needs is committed: the claim before its SMTP transaction and
    `sent` after it. The recipients' bookkeeping and lifecycle events follow per group of messages, in
    one transaction (`_record_sent`); a crash before it leaves `sent` messages unrecorded, and
    `upkeep.invitations_recover` records them.
    """
    result = SendResult()
    ids = list(pending_deliveries().order_by("planned_at", "id").values_list("id", flat=True)[:limit])
    result.more = len(ids) == limit
    if not ids:
        return result
    rate = parse_rate(settings.VOUCH_INVITE_SEND_RATE)
    stop_at = clock.monotonic() + deadline
    connection = get_connection(fail_silently=False)
    try:
        for start in range(0, len(ids), SEND_GROUP):
            group = _load_group(ids[start : start + SEND_GROUP])
            if clock.monotonic() > stop_at or _send_group(group, connection, rate, stop_at, result):
                result.more = True
                break
    finally:
        _close_quietly(connection)
    return result


def _send_group(group: list[Delivery], connection, rate: Rate | None, stop_at: float, result: SendResult) -> bool:
    """Send one group of messages; True when the batch should stop (the server refuses us, or time is up).

    One commit per message: the previous message's `sent` mark goes in the commit that claims the next
    one (before its SMTP transaction), so a crash between them leaves that message `sending`, which
    recovery marks interrupted: never sent twice, as with a commit of its own.
    """
    why_not = _not_needed(group) if group else {}
    profiles = {p.brand_id: p for p in SenderProfile.objects.filter(brand_id__in={d.brand_id for d in group})}
    senders = {d.brand_id: sender_info(d.recipient.brand, profiles.get(d.brand_id)) for d in group}
    sent: list[int] = []
    try:
        for delivery in group:
            if clock.monotonic() > stop_at:
                return True
            if delivery.state == State.PREPARED and not delivery.recipient.campaign.is_active:
                continue  # prepared before the pause: it waits for the campaign to resume
            # Built before the claim: a message that cannot be built is never "sending".
            email = compose(delivery, senders[delivery.brand_id])
            with transaction.atomic():
                _mark_sent_rows(sent)
                claimed = _claim(delivery)
            if not claimed:
                continue  # taken by another process meanwhile
            if delivery.id in why_not:
                Delivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(
                    state=State.SKIPPED, smtp_reply=f"Not sent: {why_not[delivery.id]}."
                )
                result.skipped += 1
                continue
            _take_send_slot(rate)
            try:
                connection.open()
                connection.send_messages([email])
            except (smtplib.SMTPException, OSError) as exc:  # timeouts and refused connections are OSErrors
                verdict = classify(exc)
                if verdict.permanent:
                    _mark_failed(delivery, verdict.reason)
                    result.failed += 1
                elif _mark_deferred(delivery, verdict.reason):
                    result.deferred += 1
                else:
                    result.failed += 1
                if verdict.reconnect:
                    _close_quietly(connection)
                if verdict.stop:
                    return True
            else:
                delivery.sent_at = timezone.now()
                sent.append(delivery)
                result.sent += 1
    finally:
        _mark_sent_rows(sent)
        _record_sent([d.id for d in sent])
    return False


def _mark_sent_rows(sent: list[Delivery]) -> None:
    """Mark as sent the messages the server accepted since the last commit (those still `sending`)."""
    for delivery in sent:
        if not getattr(delivery, "_marked", False):
            Delivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(
                state=State.SENT, sent_at=delivery.sent_at, smtp_reply=""
            )
            delivery._marked = True


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except (smtplib.SMTPException, OSError):
        pass


def _next_reminder_at(recipient: Recipient, step: int, sent_at: datetime, now: datetime) -> datetime | None:
    """When the reminder after message `step` is due, or None: the campaign's days after the first message,
    and never less than a day after the last one."""
    days = recipient.campaign.reminder_days or []
    if recipient.status not in OPEN_STATUSES or step >= len(days):
        return None
    first = recipient.first_sent_at or sent_at
    return max(first + timedelta(days=days[step]), now + timedelta(days=1))


def _what(delivery: Delivery) -> str:
    return "Invitation" if delivery.step == 0 else f"Reminder {delivery.step}"


BOOKKEEPING_FIELDS = ["status", "status_changed_at", "messages_sent", "first_sent_at", "next_send_at"]


def _bookkeeping(
    recipient: Recipient, delivery: Delivery, sent_at: datetime, now: datetime, note: str
) -> RecipientEvent:
    """The recipient after its message left (in memory): status, counters, the next reminder; its history row."""
    previous = recipient.status
    recipient.messages_sent = max(recipient.messages_sent, delivery.step + 1)
    recipient.first_sent_at = recipient.first_sent_at or sent_at
    if recipient.status == Status.QUEUED:
        recipient.status, recipient.status_changed_at = Status.SENT, now
    if delivery.step + 1 >= recipient.messages_sent:  # a resend of an older message leaves the schedule alone
        recipient.next_send_at = _next_reminder_at(recipient, delivery.step, sent_at, now)
    return RecipientEvent(recipient=recipient, from_status=previous, to_status=recipient.status, note=note, at=now)


def _sent_change(recipient: Recipient, delivery: Delivery, previous: str) -> Change:
    return Change(
        event=EventType.INVITATION_SENT,
        brand_id=recipient.brand_id,
        subject=recipient.public_id,
        from_state=previous,
        to_state=recipient.status,
        data={
            "invitation": recipient.public_id,
            "campaign": recipient.campaign.public_id,
            "step": delivery.step,
            "message_id": delivery.message_id,
        },
    )


@transaction.atomic
def _record_sent(delivery_ids: list[int]) -> int:
    """Record sent messages on their recipients, their history and the lifecycle, once each (idempotent),
    in a constant number of queries for the whole group. Returns how many it recorded."""
    if not delivery_ids:
        return 0
    now = timezone.now()
    deliveries = list(
        Delivery.objects.select_for_update()
        .filter(id__in=delivery_ids, state=State.SENT, recorded_at__isnull=True)
        .order_by("id")
    )
    if not deliveries:
        return 0
    Delivery.objects.filter(id__in=[d.id for d in deliveries]).update(recorded_at=now)
    locked = Recipient.objects.select_for_update(of=("self",)).select_related("campaign")
    by_id = {r.id: r for r in locked.filter(id__in={d.recipient_id for d in deliveries}).order_by("id")}
    history, changes = [], []
    for delivery in deliveries:
        recipient = by_id[delivery.recipient_id]
        previous = recipient.status
        resent = " again (same Message-ID, with Resent-* headers)" if delivery.resent else ""
        note = f"{_what(delivery)} sent{resent} ({delivery.message_id})."
        history.append(_bookkeeping(recipient, delivery, delivery.sent_at or now, now, note))
        changes.append(_sent_change(recipient, delivery, previous))
    # One plain UPDATE per recipient inside this one transaction: bulk_update's CASE expressions cost far
    # more to build than these take to run (docs/benchmarks.md, invitations).
    for recipient in by_id.values():
        Recipient.objects.filter(pk=recipient.pk).update(
            **{name: getattr(recipient, name) for name in BOOKKEEPING_FIELDS}
        )
    RecipientEvent.objects.bulk_create(history)
    record_many(changes)
    return len(deliveries)


@transaction.atomic
def _mark_deferred(delivery: Delivery, reason: str) -> bool:
    """Deferred for a later attempt (True), or failed when this was the last one (False)."""
    if delivery.attempts >= settings.VOUCH_INVITE_MAX_ATTEMPTS:
        _mark_failed(delivery, f"Gave up after {delivery.attempts} attempts. Last answer: {reason}")
        return False
    retry_at = timezone.now() + timedelta(seconds=queue.INVITE_SEND_RETRY.delay(delivery.attempts - 1))
    Delivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(
        state=State.DEFERRED, retry_at=retry_at, smtp_reply=reason
    )
    log.info("Invitation %s deferred until %s: %s", delivery.public_id, retry_at, reason)
    return True


@transaction.atomic
def _mark_failed(delivery: Delivery, reason: str) -> None:
    Delivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(state=State.FAILED, smtp_reply=reason)
    recipient = Recipient.objects.select_for_update().select_related("campaign").get(pk=delivery.recipient_id)
    previous = recipient.status
    if recipient.can_move_to(Status.FAILED):
        note = f"{_what(delivery)} refused by the mail server: {reason}"
        recipient_move(recipient, Status.FAILED, note=note, next_send_at=None, error=reason[:2000])
        _record(
            EventType.INVITATION_FAILED, recipient, from_status=previous, to_status=Status.FAILED, step=delivery.step
        )
