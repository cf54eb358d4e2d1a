"""The lifecycle's data: the event vocabulary, the audit trail and the outbox that subscribers drain."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from testimonials.models.brands import Brand
from testimonials.models.testimonials import Testimonial
from testimonials.models.widgets import Widget


class EventType(models.TextChoices):
    """Every change others may care about. The audit trail's `action` and the outbox read this list;
    webhooks, analytics and invitations subscribe to members of it. Values are stored: never rename one."""

    # A testimonial's life, from received to displayed.
    RECEIVED = "received", "Received"
    AUTO_DECISION = "auto_decision", "Decided automatically"
    FAILED = "failed", "Processing failed"
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Rejected"
    UNPUBLISH = "unpublish", "Unpublished"
    FEATURE = "feature", "Featured"
    UNFEATURE = "unfeature", "No longer featured"
    TAG = "tag", "Tagged"
    EDIT = "edit", "Edited"
    MEDIA_READY = "media_ready", "Photo or video ready"
    ERASE = "erase", "Erased"
    # What a brand sets up.
    BRAND_CHANGE = "brand_change", "Brand settings changed"
    FORM_CHANGE = "form_change", "Form settings changed"
    TAG_CHANGE = "tag_change", "Tag changed"
    WIDGET_CHANGE = "widget_change", "Widget settings changed"
    WIDGET_DELETE = "widget_delete", "Widget deleted"
    TOPIC_CHANGE = "topic_change", "Topic vocabulary changed"
    # The brand's testimonials were read again for topics after its vocabulary changed.
    TOPICS_REREAD = "topics_reread", "Topics read again"
    # What happens to a customer invited by email (testimonials/invitations); the subject is the invitation.
    INVITATION_SENT = "invitation.sent", "Invitation or reminder sent"
    INVITATION_CLICKED = "invitation.clicked", "Invitation link opened"
    INVITATION_SUBMITTED = "invitation.submitted", "Invited customer sent a testimonial"
    INVITATION_UNSUBSCRIBED = "invitation.unsubscribed", "Invited customer unsubscribed"
    INVITATION_BOUNCED = "invitation.bounced", "Invitation bounced"
    INVITATION_FAILED = "invitation.failed", "Invitation could not be sent"
    INVITATION_ERASED = "invitation.erased", "Invited customer's data erased"


# Events about one testimonial (the rest are about a brand's settings).
TESTIMONIAL_EVENTS = frozenset(
    {
        EventType.RECEIVED, EventType.AUTO_DECISION, EventType.FAILED, EventType.APPROVE, EventType.REJECT,
        EventType.UNPUBLISH, EventType.FEATURE, EventType.UNFEATURE, EventType.TAG, EventType.EDIT,
        EventType.MEDIA_READY, EventType.ERASE,
    }
)  # fmt: skip


class AuditEvent(models.Model):
    """The audit trail: one row per recorded change, written with its outbox entry. Append-only.

    A testimonial's rows go with it when it is erased (GDPR); the erasure itself stays recorded,
    naming only the public id.
    """

    class Actor(models.TextChoices):
        SYSTEM = "system", "Automatic"
        HUMAN = "human", "Person"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    testimonial = models.ForeignKey(Testimonial, on_delete=models.CASCADE, null=True, blank=True, related_name="events")
    widget = models.ForeignKey(Widget, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    # The public id of what changed, kept when the row itself is gone (an erasure, a deleted widget).
    subject = models.CharField(max_length=16, blank=True)
    actor_kind = models.CharField(max_length=10, choices=Actor.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    action = models.CharField(max_length=30, choices=EventType.choices)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["testimonial", "created_at"], name="event_trail_idx"),
            models.Index(fields=["brand", "-id"], name="event_brand_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state} -> {self.to_state}"


class OutboxEntry(models.Model):
    """A recorded change on its way to every subscriber. Written in the transaction of the change,
    so it exists exactly when the change does; `dispatched_at` is set once every subscriber that
    wants it has handled it. Holds ids and states only, never personal data."""

    event = models.CharField(max_length=30, choices=EventType.choices)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    # Plain ids, not foreign keys: an erased testimonial's or a deleted widget's entry still goes out.
    testimonial_id = models.BigIntegerField(null=True, blank=True)
    widget_id = models.BigIntegerField(null=True, blank=True)
    public_id = models.CharField(max_length=16, blank=True)
    actor_kind = models.CharField(max_length=10, choices=AuditEvent.Actor.choices)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # Hand-offs by the sweeper (after a lost hand-off or a failing subscriber), and when it tries next.
    attempts = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="Why a subscriber failed on its last hand-off.")

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "outbox entries"
        indexes = [
            # The sweeper: entries not yet handed to every subscriber, oldest first.
            models.Index(fields=["created_at"], name="outbox_pending_idx", condition=Q(dispatched_at__isnull=True)),
            # The purge: dispatched entries past their retention.
            models.Index(fields=["dispatched_at"], name="outbox_dispatched_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.id}"

    @property
    def states(self) -> frozenset[str]:
        return frozenset(s for s in (self.from_state, self.to_state) if s)


class OutboxReceipt(models.Model):
    """A subscriber has handled an entry. Inserted in the transaction of the subscriber's own work,
    so work and receipt commit together; the unique pair makes a second hand-off a no-op."""

    entry = models.ForeignKey(OutboxEntry, on_delete=models.CASCADE, related_name="receipts")
    subscriber = models.CharField(max_length=60)
    handled_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entry", "subscriber"], name="outbox_receipt_unique")]

    def __str__(self) -> str:
        return f"{self.subscriber} handled #{self.entry_id}"
