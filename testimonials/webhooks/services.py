"""Webhook endpoints as a brand's owners set them up, and deliveries from the first try to the last.

A delivery is claimed with a conditional UPDATE that also takes a lease, sent with no transaction
open, and its outcome written only if the claim is still ours (a worker that died mid-send loses its
lease; the periodic pass sends the message again, with the same `webhook-id`).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from testimonials import queue, safehttp
from testimonials.errors import ApplicationError, PermissionDenied
from testimonials.lifecycle.models import OutboxEntry
from testimonials.models import Brand, Membership, Testimonial
from testimonials.selectors import brand_role_for_user
from testimonials.webhooks import events, payloads, signing
from testimonials.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

Status = WebhookDelivery.Status
OWNERS_ONLY = "Only the brand's owners can manage its webhooks."
# A sending worker holds a delivery for its connect and read timeouts and a margin; then it may go again.
LEASE_MARGIN = 5.0


def _lease() -> timedelta:
    return timedelta(seconds=safehttp.CONNECT_TIMEOUT + settings.VOUCH_WEBHOOK_TIMEOUT_SECONDS + LEASE_MARGIN)


# Retries this soon are sent with a countdown; later ones wait for the periodic pass (a Redis countdown
# longer than the visibility timeout would be delivered twice).
COUNTDOWN_LIMIT = 600
# The periodic pass leaves fresh deliveries to the message sent after their commit.
DUE_GRACE = timedelta(seconds=10)
EXCERPT_CHARS = 1000
SLACK_HOSTS = ("hooks.slack.com",)
# Rotating a secret keeps the previous one signing for this long.
ROTATION_OVERLAP = timedelta(hours=24)


def _allow_loopback() -> bool:
    return settings.VOUCH_OUTBOUND_ALLOW_LOOPBACK


def _require_owner(actor, brand: Brand) -> None:
    if brand_role_for_user(actor, brand) != Membership.Role.OWNER:
        raise PermissionDenied(OWNERS_ONLY)


# --------------------------------------------------------------------------- endpoints


def webhook_url_check(url: str, *, kind: str = WebhookEndpoint.Kind.STANDARD) -> str:
    """A URL we may send to: https, resolving only to public addresses (checked again at every send)."""
    url = (url or "").strip()
    try:
        destination = safehttp.resolve(url, allow_loopback=_allow_loopback())
    except safehttp.OutboundRefused as exc:
        raise ApplicationError(exc.message, field="url", code=exc.code) from exc
    except safehttp.OutboundFailed as exc:
        raise ApplicationError(str(exc), field="url", code="unreachable") from exc
    if kind == WebhookEndpoint.Kind.SLACK and destination.host not in SLACK_HOSTS and not _allow_loopback():
        raise ApplicationError(
            "A Slack endpoint is an incoming-webhook URL: https://hooks.slack.com/services/...", field="url"
        )
    return url


def _events_check(wanted: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(name) for name in wanted))
    unknown = [name for name in chosen if name not in events.BY_NAME]
    if unknown:
        known = ", ".join(events.BY_NAME)
        raise ApplicationError(f"Unknown event type {unknown[0]!r}. Choose among: {known}.", field="events")
    if not chosen:
        raise ApplicationError("Choose at least one event type.", field="events")
    return chosen


@transaction.atomic
def webhook_endpoint_create(
    *, brand: Brand, actor, url: str, events_: Iterable[str], name: str = "", kind: str = WebhookEndpoint.Kind.STANDARD
) -> WebhookEndpoint:
    """Register an endpoint (owners). Raises ApplicationError naming the field for a bad URL or event type."""
    _require_owner(actor, brand)
    if kind not in WebhookEndpoint.Kind.values:
        raise ApplicationError("Unknown kind of endpoint.", field="kind")
    endpoint = WebhookEndpoint(
        brand=brand,
        name=(name or "").strip()[:80],
        url=webhook_url_check(url, kind=kind),
        kind=kind,
        events=_events_check(events_),
        secret=signing.secret_new(),
        created_by=actor,
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor,
    url: str | None = None,
    events_: Iterable[str] | None = None,
    name: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint; switching it back on clears its failure streak (nothing missed is resent: redeliver)."""
    _require_owner(actor, endpoint.brand)
    endpoint = WebhookEndpoint.objects.select_for_update().get(id=endpoint.id)
    if url is not None:
        endpoint.url = webhook_url_check(url, kind=endpoint.kind)
    if events_ is not None:
        endpoint.events = _events_check(events_)
    if name is not None:
        endpoint.name = name.strip()[:80]
    if is_active is True and not endpoint.is_active:
        endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = True, None, ""
        endpoint.consecutive_failures = 0
    elif is_active is False and endpoint.is_active:
        _disable(endpoint, reason="Switched off by an owner.", notify=False)
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor) -> WebhookEndpoint:
    """A new signing secret; the old one keeps signing (second signature) for ROTATION_OVERLAP."""
    _require_owner(actor, endpoint.brand)
    endpoint = WebhookEndpoint.objects.select_for_update().get(id=endpoint.id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + ROTATION_OVERLAP
    endpoint.secret = signing.secret_new()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, actor) -> None:
    """Delete an endpoint and its delivery log."""
    _require_owner(actor, endpoint.brand)
    endpoint.delete()


def webhook_endpoint_reveal_secret(*, endpoint: WebhookEndpoint, actor) -> list[str]:
    """The secrets a receiver verifies with (owners only): the current one first."""
    _require_owner(actor, endpoint.brand)
    return endpoint.signing_secrets()


def _disable(endpoint: WebhookEndpoint, *, reason: str, notify: bool) -> None:
    """Switch an endpoint off (in the caller's transaction): what waits for it gives up, owners hear of it."""
    now = timezone.now()
    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason[:300]
    WebhookEndpoint.objects.filter(id=endpoint.id).update(
        is_active=False, disabled_at=now, disabled_reason=reason[:300], updated_at=now
    )
    endpoint.deliveries.filter(status__in=[Status.PENDING, Status.SENDING]).update(
        status=Status.FAILED, next_attempt_at=None, lease_until=None, last_error="The endpoint was disabled."
    )
    if notify:
        from testimonials.webhooks.tasks import webhook_notify_disabled_task  # tasks import this module

        queue.send_on_commit(webhook_notify_disabled_task, endpoint.id)


def webhook_endpoint_notify_disabled(*, endpoint_id: int) -> int:
    """Email the brand's owners that an endpoint was disabled, and why. Returns how many were written to."""
    endpoint = WebhookEndpoint.objects.select_related("brand").filter(id=endpoint_id).first()
    if endpoint is None or endpoint.is_active:
        return 0
    owners = Membership.objects.filter(brand=endpoint.brand, role=Membership.Role.OWNER, user__is_active=True)
    recipients = sorted({email for email in owners.values_list("user__email", flat=True) if email})
    if not recipients:
        return 0
    send_mail(
        subject=f"Vouch: the webhook endpoint {endpoint} of {endpoint.brand.name} was switched off",
        message=(
            f"Vouch stopped sending to {endpoint.url}\n\nWhy: {endpoint.disabled_reason}\n\n"
            "Fix the receiver, switch the endpoint back on in Vouch (Webhook endpoints), and send again what it "
            "missed from its delivery log."
        ),
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)


# --------------------------------------------------------------------------- deliveries from the lifecycle


def webhook_deliveries_create(*, entries: list[OutboxEntry]) -> list[WebhookDelivery]:
    """One delivery per active endpoint and webhook event these entries mean, sent after commit.

    Runs in the lifecycle subscriber's transaction (with its receipts), so a repeated hand-off of the
    same entries creates nothing twice; the unique (endpoint, entry, event) constraint backs that up.
    """
    brand_ids = {entry.brand_id for entry in entries}
    endpoints_of: dict[int, list[WebhookEndpoint]] = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(brand_id__in=brand_ids, is_active=True):
        endpoints_of[endpoint.brand_id].append(endpoint)
    if not endpoints_of:
        return []
    wanted = [entry for entry in entries if entry.brand_id in endpoints_of]
    items = (
        Testimonial.objects.select_related("brand", "form")
        .prefetch_related("tags", "media")
        .in_bulk([entry.testimonial_id for entry in wanted if entry.testimonial_id])
    )
    slugs = dict(Brand.objects.filter(id__in=endpoints_of).values_list("id", "slug"))
    rows: list[WebhookDelivery] = []
    for entry in wanted:
        item = items.get(entry.testimonial_id)
        for event_type in events.event_types_for(entry, item):
            data = payloads.event_data(event_type, entry=entry, brand_slug=slugs[entry.brand_id], item=item)
            rows += [
                WebhookDelivery(
                    endpoint=endpoint,
                    brand_id=entry.brand_id,
                    event_type=event_type,
                    outbox_entry_id=entry.id,
                    testimonial_id=entry.testimonial_id,
                    occurred_at=entry.created_at,
                    payload=data,
                )
                for endpoint in endpoints_of[entry.brand_id]
                if event_type in endpoint.events
            ]
    created = WebhookDelivery.objects.bulk_create(rows)
    from testimonials.webhooks.tasks import webhook_deliver_task  # tasks import this module

    for delivery in created:
        queue.send_on_commit(webhook_deliver_task, delivery.id)
    return created


def webhook_deliveries_scrub(*, entries: list[OutboxEntry]) -> int:
    """Erasure: the deliveries (sent or waiting) and response excerpts of erased testimonials keep only ids."""
    scrubbed = 0
    slugs = dict(Brand.objects.filter(id__in={e.brand_id for e in entries}).values_list("id", "slug"))
    for entry in entries:
        if entry.testimonial_id is None:
            continue
        mine = WebhookDelivery.objects.filter(testimonial_id=entry.testimonial_id, brand_id=entry.brand_id)
        scrubbed += mine.update(payload=payloads.scrubbed(entry.public_id, slugs.get(entry.brand_id, "")))
        WebhookAttempt.objects.filter(delivery__in=mine).update(response_excerpt="")
    return scrubbed


# --------------------------------------------------------------------------- sending


def _claim(delivery_id: int, now) -> bool:
    """Take the delivery for one attempt (and a lease); False when it is not ours to send (not due, taken)."""
    due = Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(status=Status.SENDING, lease_until__lt=now)
    claimed = WebhookDelivery.objects.filter(due, id=delivery_id, endpoint__is_active=True).update(
        status=Status.SENDING, attempts=F("attempts") + 1, lease_until=now + _lease()
    )
    return bool(claimed)


def message_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent (and signed): compact JSON."""
    endpoint = delivery.endpoint
    if endpoint.kind == WebhookEndpoint.Kind.SLACK:
        document = payloads.slack_message(
            event_type=delivery.event_type, data=delivery.payload, testimonial_id=delivery.testimonial_id
        )
    else:
        document = payloads.envelope(
            event_type=delivery.event_type, occurred_at=delivery.occurred_at, data=delivery.payload
        )
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def message_headers(delivery: WebhookDelivery, body: bytes, *, timestamp: int) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if delivery.endpoint.kind == WebhookEndpoint.Kind.STANDARD:
        headers.update(
            signing.headers(
                secrets_=delivery.endpoint.signing_secrets(),
                message_id=delivery.message_id,
                timestamp=timestamp,
                body=body,
            )
        )
    return headers


def _excerpt(body: bytes) -> str:
    # PostgreSQL text cannot hold NUL; a receiver may answer anything.
    return body[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace")[:EXCERPT_CHARS].replace("\x00", "")


def webhook_deliver(*, delivery_id: int) -> str:
    """Send one delivery if it is due and ours: "succeeded", "retrying", "failed" or "skipped".

    Safe to call any number of times, concurrently too (the claim decides); never raises for the receiver.
    """
    now = timezone.now()
    if not _claim(delivery_id, now):
        return "skipped"
    delivery = WebhookDelivery.objects.select_related("endpoint").get(id=delivery_id)
    attempt = delivery.attempts
    body = message_body(delivery)
    headers = message_headers(delivery, body, timestamp=int(now.timestamp()))
    status_code, latency_ms, excerpt, error = None, None, "", ""
    started = timezone.now()
    try:
        destination = safehttp.resolve(delivery.endpoint.url, allow_loopback=_allow_loopback())
        response = safehttp.send(
            destination,
            body=body,
            headers=headers,
            max_bytes=EXCERPT_CHARS * 4,
            read_timeout=settings.VOUCH_WEBHOOK_TIMEOUT_SECONDS,
        )
        status_code, latency_ms = response.status, round(response.elapsed * 1000)
        excerpt = _excerpt(response.body)
        if not 200 <= response.status < 300:
            error = f"The receiver answered {response.status}."
    except safehttp.OutboundRefused as exc:
        error = f"Refused: {exc.message}"
    except safehttp.OutboundFailed as exc:
        error = str(exc)
        latency_ms = round((timezone.now() - started).total_seconds() * 1000)
    return _record(delivery, attempt, status_code, latency_ms, excerpt, error[:500], started)


@transaction.atomic
def _record(delivery, attempt, status_code, latency_ms, excerpt, error, started) -> str:
    now = timezone.now()
    WebhookAttempt.objects.create(
        delivery_id=delivery.id,
        number=attempt,
        manual=delivery.manual_pending,
        started_at=started,
        status_code=status_code,
        latency_ms=latency_ms,
        response_excerpt=excerpt,
        error=error,
    )
    # Only while the claim is still ours: a lease that lapsed means another attempt owns the row now.
    ours = WebhookDelivery.objects.filter(id=delivery.id, status=Status.SENDING, attempts=attempt)
    facts = {"last_status_code": status_code, "last_latency_ms": latency_ms, "last_error": error, "lease_until": None}
    endpoint = WebhookEndpoint.objects.filter(id=delivery.endpoint_id)
    if not error:
        ours.update(status=Status.SUCCEEDED, delivered_at=now, next_attempt_at=None, manual_pending=False, **facts)
        # Every success writing the one endpoint row would serialise all deliveries to it on that row's
        # lock: write it only when a failure streak ends, or at most once a minute.
        endpoint.filter(
            Q(consecutive_failures__gt=0)
            | Q(last_success_at__isnull=True)
            | Q(last_success_at__lt=now - timedelta(seconds=60))
        ).update(consecutive_failures=0, last_success_at=now)
        return "succeeded"
    wait = queue.webhook_retry().delay(attempt - delivery.schedule_start - 1)
    endpoint.update(consecutive_failures=F("consecutive_failures") + 1, last_failure_at=now)
    if wait is None:
        if ours.update(status=Status.FAILED, next_attempt_at=None, manual_pending=False, **facts):
            hours = queue.webhook_retry().total / 3600
            _disable(
                WebhookEndpoint.objects.get(id=delivery.endpoint_id),
                reason=f"Every attempt to deliver a message failed for {hours:.0f} hours (last: {error})",
                notify=True,
            )
        return "failed"
    ours.update(status=Status.PENDING, next_attempt_at=now + timedelta(seconds=wait), manual_pending=False, **facts)
    if wait <= COUNTDOWN_LIMIT:
        from testimonials.webhooks.tasks import webhook_deliver_task  # tasks import this module

        queue.send_on_commit(webhook_deliver_task, delivery.id, countdown=wait)
    return "retrying"


@transaction.atomic
def webhook_delivery_redeliver(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send a delivery again now, with the same `webhook-id` and a fresh retry schedule (owners)."""
    _require_owner(actor, delivery.brand)
    delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint").get(id=delivery.id)
    if not delivery.endpoint.is_active:
        raise ApplicationError("Switch the endpoint back on before sending to it again.", code="endpoint_disabled")
    if delivery.status == Status.SENDING:
        raise ApplicationError("This message is being sent right now.", code="sending")
    now = timezone.now()
    delivery.status, delivery.next_attempt_at, delivery.manual_pending = Status.PENDING, now, True
    delivery.schedule_start = delivery.attempts
    delivery.save(update_fields=["status", "next_attempt_at", "manual_pending", "schedule_start"])
    from testimonials.webhooks.tasks import webhook_deliver_task  # tasks import this module

    queue.send_on_commit(webhook_deliver_task, delivery.id)
    return delivery


def webhook_deliveries_due(*, limit: int = 1000) -> list[int]:
    """For the periodic pass: enqueue deliveries that are due (a retry, a message lost with the broker) or
    whose sending worker died (lapsed lease). Returns their ids; the claim makes a duplicate harmless."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=now - DUE_GRACE) | Q(status=Status.SENDING, lease_until__lt=now),
        endpoint__is_active=True,
    )
    ids = list(due.order_by("next_attempt_at").values_list("id", flat=True)[:limit])
    from testimonials.webhooks.tasks import webhook_deliver_task  # tasks import this module

    for delivery_id in ids:
        queue.send(webhook_deliver_task, delivery_id)
    return ids


def webhook_log_purge(*, older_than: timedelta | None = None) -> int:
    """Delete finished deliveries (and their attempts) past VOUCH_WEBHOOK_LOG_RETENTION_DAYS."""
    cutoff = timezone.now() - (older_than or timedelta(days=settings.VOUCH_WEBHOOK_LOG_RETENTION_DAYS))
    finished = WebhookDelivery.objects.filter(status__in=[Status.SUCCEEDED, Status.FAILED], created_at__lt=cutoff)
    deleted, _ = finished.delete()
    return deleted
