"""Webhook endpoints of a brand, the deliveries the lifecycle creates for them, and every attempt."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from testimonials.models.base import TimeStamped, new_public_id
from testimonials.models.brands import Brand


def new_message_id() -> str:
    """The `webhook-id` of a message: the same through every retry and redelivery (receivers dedupe by it)."""
    return "msg_" + new_public_id() + new_public_id()


class WebhookEndpoint(TimeStamped):
    """A URL of a brand's that hears about the event types it subscribes to, signed with its secret."""

    class Kind(models.TextChoices):
        STANDARD = "standard", "Signed JSON (Standard Webhooks)"
        SLACK = "slack", "Slack incoming webhook"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="webhook_endpoints")
    name = models.CharField(max_length=80, blank=True, help_text="What receives it, e.g. 'CRM' or '#reviews'.")
    url = models.CharField(max_length=1000)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STANDARD)
    # Webhook event names (webhooks/events.py), e.g. ["testimonial.approved"].
    events = models.JSONField(default=list)
    # Revealed to owners (receivers need it to verify signatures); a rotation keeps the previous one
    # valid for a while so receivers can switch without losing messages.
    secret = models.CharField(max_length=80, editable=False)
    previous_secret = models.CharField(max_length=80, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["brand", "created_at"]

    def __str__(self) -> str:
        return self.name or self.url[:60]

    def signing_secrets(self, now=None) -> list[str]:
        now = now or timezone.now()
        valid = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            valid.append(self.previous_secret)
        return valid


class WebhookDelivery(models.Model):
    """One event for one endpoint: a message with one `webhook-id`, tried until it succeeds or gives up."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Gave up"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    message_id = models.CharField(max_length=40, default=new_message_id, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=40)
    # Where it came from: the lifecycle entry (unique per endpoint and event type, so a repeated
    # hand-off creates nothing twice) and the testimonial it is about (erasure scrubs its payloads).
    outbox_entry_id = models.BigIntegerField(null=True, blank=True)
    testimonial_id = models.BigIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    # The event's "data", frozen when the event happened. Personal data: scrubbed on erasure.
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # While sending: after this, a worker that died mid-send has lost its claim and the message goes again.
    lease_until = models.DateTimeField(null=True, blank=True)
    manual_pending = models.BooleanField(default=False, help_text="A person asked to send it again.")
    # The attempt count when a person last asked to send it again: the retry schedule starts over there.
    schedule_start = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "outbox_entry_id", "event_type"],
                condition=Q(outbox_entry_id__isnull=False),
                name="webhook_delivery_once_per_entry",
            )
        ]
        indexes = [
            # The periodic pass: what is due (waiting, or sending with a lapsed lease), oldest first.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_log_idx"),
            models.Index(fields=["testimonial_id"], name="webhook_delivery_item_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP try of a delivery: what the receiver answered, and how fast."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    manual = models.BooleanField(default=False, help_text="A person asked for this redelivery.")
    started_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error[:40]}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
