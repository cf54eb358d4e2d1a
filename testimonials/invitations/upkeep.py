"""What beat does every minute besides sending (invitations_tick), and what a dead worker leaves behind.

Messages left in `sending` by a worker that died may or may not have been accepted by the server, so
they become `interrupted` and are never sent again automatically; a person may send one again from the
admin (`delivery_resend`): it goes out with the same Message-ID and Resent-* headers, so a receiver
that already has it can tell. Messages marked `sent` whose bookkeeping never committed are recorded.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from testimonials.errors import InvalidTransition, PermissionDenied
from testimonials.invitations.importing import import_jobs_resume
from testimonials.invitations.models import (
    Delivery,
    Recipient,
    RecipientStatus,
)
from testimonials.invitations.sending import (
    BOOKKEEPING_FIELDS,
    PLAN_BATCH,
    _bookkeeping,
    _record_sent,
    _what,
    invitations_plan,
    pending_deliveries,
)
from testimonials.invitations.services import (
    _note,
)
from testimonials.selectors import user_can_edit_brand

log = logging.getLogger(__name__)
State = Delivery.State
Status = RecipientStatus


def invitations_recover(*, now: datetime | None = None) -> int:
    """What a dead worker left behind. Messages left in `sending` become `interrupted`: the server may or may
    not have accepted them, so they are never sent again automatically; the recipient moves on as if the
    message had left (it most likely did), and the admin offers "send again". Messages marked `sent`
    whose bookkeeping never committed are recorded now. Returns how many messages it dealt with."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.VOUCH_STUCK_AFTER_SECONDS + settings.EMAIL_TIMEOUT)
    stuck = list(Delivery.objects.filter(state=State.SENDING, sending_at__lt=cutoff).order_by("id")[:500])
    note = (
        "The worker stopped during the SMTP transaction: the server may or may not have accepted it, "
        "so it is not sent again automatically."
    )
    recovered = 0
    for delivery in stuck:
        with transaction.atomic():
            if not Delivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(
                state=State.INTERRUPTED, smtp_reply=note, recorded_at=now
            ):
                continue
            recipient = Recipient.objects.select_for_update().select_related("campaign").get(pk=delivery.recipient_id)
            history = _bookkeeping(
                recipient,
                delivery,
                delivery.sending_at,
                now,
                f"{_what(delivery)} interrupted ({delivery.message_id}). {note}",
            )
            recipient.save(update_fields=BOOKKEEPING_FIELDS)
            history.save()
            recovered += 1
    if recovered:
        log.warning("%s invitation(s) were interrupted mid-send and will not be sent again automatically.", recovered)
    unrecorded = Delivery.objects.filter(state=State.SENT, recorded_at__isnull=True, sent_at__lt=cutoff)
    recovered += _record_sent(list(unrecorded.order_by("id").values_list("id", flat=True)[:500]))
    return recovered


@transaction.atomic
def delivery_resend(*, delivery: Delivery, actor) -> Delivery:
    """Send an interrupted message again, by a person's decision: same Message-ID, Resent-* headers added."""
    if not user_can_edit_brand(actor, delivery.brand):
        raise PermissionDenied("Only the brand's owners and editors can send invitations again.")
    if not Delivery.objects.filter(pk=delivery.pk, state=State.INTERRUPTED).update(
        state=State.PREPARED, resent=True, retry_at=None, recorded_at=None
    ):
        raise InvalidTransition("Only an interrupted message can be sent again.")
    recipient = Recipient.objects.get(pk=delivery.recipient_id)
    _note(recipient, f"{_what(delivery)} queued to be sent again by {actor} ({delivery.message_id}).", timezone.now())
    delivery.refresh_from_db()
    return delivery


def invitations_tick(*, now: datetime | None = None) -> dict[str, int]:
    """What beat runs every minute: recover interrupted sends, resume stalled imports, plan what is due."""
    now = now or timezone.now()
    recovered = invitations_recover(now=now)
    resumed = import_jobs_resume(now=now)
    planned = 0
    while True:  # a large due backlog is planned in batches (the daily cap bounds it)
        batch = invitations_plan(now=now)
        planned += batch
        if batch < PLAN_BATCH:
            break
    return {"recovered": recovered, "resumed": resumed, "planned": planned, "pending": pending_deliveries(now).count()}
