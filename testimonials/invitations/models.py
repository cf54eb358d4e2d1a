"""Invitations' data: campaigns, their recipients with a status history, every message sent, the per-brand
suppression list, and CSV import jobs with their per-row report.

There is deliberately nothing here that depends on a rating or a sentiment: everyone on a list is
invited the same way (FTC 16 CFR 465, review gating), and tests/invitations/test_compliance.py fails
when a field that could route or filter customers by how happy they are appears.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from testimonials.models import Brand, CollectionForm, Testimonial, TimeStamped, new_public_id
from testimonials.storage import private_storage

DEFAULT_SUBJECT = "{brand} would like to hear about your experience"
# Neutral by default: it asks for an honest account, good or bad, and never only happy customers.
DEFAULT_BODY = (
    "Hello {customer_name},\n\n"
    "Thank you for your order with {brand}! Would you tell us about your experience with {product}? "
    "Every honest answer helps, whatever it says, and it takes about two minutes.\n\n"
    "{link}\n\n"
    "Thank you,\n{brand}"
)
MAX_REMINDERS = 2


def default_reminder_days() -> list[int]:
    """One reminder after 5 days, a second after 12 (days after the invitation)."""
    return [5, 12]


class RecipientStatus(models.TextChoices):
    """Where an invited customer is. The funnel, the admin's colours and the API read this list."""

    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    CLICKED = "clicked", "Clicked"
    SUBMITTED = "submitted", "Submitted"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    FAILED = "failed", "Failed"


# Allowed changes. The last four are final: nothing more is ever sent to that recipient.
RECIPIENT_TRANSITIONS: dict[str, frozenset[str]] = {
    RecipientStatus.QUEUED: frozenset({"sent", "submitted", "unsubscribed", "bounced", "failed"}),
    RecipientStatus.SENT: frozenset({"clicked", "submitted", "unsubscribed", "bounced", "failed"}),
    RecipientStatus.CLICKED: frozenset({"submitted", "unsubscribed", "bounced", "failed"}),
    RecipientStatus.SUBMITTED: frozenset(),
    RecipientStatus.UNSUBSCRIBED: frozenset(),
    RecipientStatus.BOUNCED: frozenset(),
    RecipientStatus.FAILED: frozenset(),
}
# Still waiting for an answer: these may get an invitation or a reminder.
OPEN_STATUSES = (RecipientStatus.QUEUED, RecipientStatus.SENT, RecipientStatus.CLICKED)


class SenderProfile(TimeStamped):
    """How a brand's invitations look in an inbox, and how many may leave per day."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="invitation_sender")
    from_name = models.CharField(max_length=80, blank=True, help_text="Shown as the sender; the brand's name if empty.")
    reply_to = models.EmailField(blank=True, help_text="Where customers' replies go.")
    daily_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Messages per day for this brand; empty uses the installation's default."
    )

    def __str__(self) -> str:
        return f"Sender of {self.brand}"


class Campaign(TimeStamped):
    """Invitations to one collection form: the message, when it goes out and when it reminds."""

    class DelayFrom(models.TextChoices):
        ORDER_DATE = "order_date", "the customer's order date (the upload when there is none)"
        ADDED = "added", "the upload or API call"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="campaigns")
    # PROTECT: a form with invitations out cannot be deleted from under their links.
    form = models.ForeignKey(CollectionForm, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=120)
    subject = models.CharField(max_length=200, default=DEFAULT_SUBJECT)
    body = models.TextField(
        default=DEFAULT_BODY,
        help_text="Placeholders: {customer_name}, {product}, {brand}, {order_id}, {link}. "
        "The button to the form and the unsubscribe link are always added.",
    )
    delay_days = models.PositiveSmallIntegerField(default=7, validators=[MaxValueValidator(365)])
    delay_from = models.CharField(max_length=12, choices=DelayFrom.choices, default=DelayFrom.ORDER_DATE)
    # Days after the first message; at most two reminders, to those who have not answered.
    reminder_days = models.JSONField(default=default_reminder_days, blank=True)
    is_active = models.BooleanField(default=True, help_text="Paused campaigns send nothing.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["brand", "name"], name="campaign_unique_name_per_brand")]

    def __str__(self) -> str:
        return self.name


class Recipient(models.Model):
    """One customer invited by one campaign. Personal data: erased everywhere on request (privacy)."""

    Status = RecipientStatus

    class Source(models.TextChoices):
        CSV = "csv", "CSV upload"
        API = "api", "API"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")  # the campaign's, for scoping
    name = models.CharField(max_length=120, blank=True)
    email = models.EmailField(max_length=254)
    email_key = models.CharField(max_length=254, editable=False)  # the address as compared: lower case
    order_id = models.CharField(max_length=64, blank=True)
    order_date = models.DateField(null=True, blank=True)
    product = models.CharField(max_length=200, blank=True)
    locale = models.CharField(max_length=16, blank=True)

    status = models.CharField(max_length=12, choices=RecipientStatus.choices, default=RecipientStatus.QUEUED)
    status_changed_at = models.DateTimeField(default=timezone.now)
    # When the next message is due; None when nothing more is to be sent (or one is on its way).
    next_send_at = models.DateTimeField(null=True, blank=True)
    messages_sent = models.PositiveSmallIntegerField(default=0, help_text="The invitation and reminders sent.")
    first_sent_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    testimonial = models.ForeignKey(Testimonial, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    error = models.TextField(blank=True, help_text="The mail server's reason, when sending failed or bounced.")

    source = models.CharField(max_length=8, choices=Source.choices, default=Source.CSV)
    import_job = models.ForeignKey("ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    row_number = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Re-uploading a file, a retried API call or a resumed import adds nobody twice.
            models.UniqueConstraint(fields=["campaign", "email_key"], name="recipient_unique_email_per_campaign"),
            models.CheckConstraint(condition=Q(status__in=RecipientStatus.values), name="recipient_status_valid"),
        ]
        indexes = [
            # The planner reads only what is due: its cost follows due rows, not open invitations.
            models.Index(fields=["next_send_at"], name="recipient_due_idx", condition=Q(next_send_at__isnull=False)),
            models.Index(fields=["campaign", "status"], name="recipient_campaign_status_idx"),
            models.Index(fields=["brand", "email_key"], name="recipient_brand_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.email} ({self.get_status_display()})"

    @property
    def submission_key(self) -> str:
        """The testimonial's idempotency key: one testimonial per invitation, held by a unique column."""
        return submission_key_for(self.public_id)

    def can_move_to(self, status: str) -> bool:
        return status in RECIPIENT_TRANSITIONS[self.status]


def submission_key_for(public_id: str) -> str:
    return f"invite:{public_id}"


class RecipientEvent(models.Model):
    """A recipient's status history, one row per change, shown in the admin."""

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status or '-'}"


class Delivery(models.Model):
    """One message (the invitation or a reminder) to one recipient, from planning to the server's answer.

    The Message-ID is chosen and committed before the SMTP transaction begins (`prepared`). A message
    is moved to `sending` in its own commit right before the transaction and to `sent` right after;
    a message found in `sending` after its worker died may or may not have been accepted, so it is
    marked `interrupted` and never sent again automatically: nothing is ever sent twice.
    """

    class State(models.TextChoices):
        PREPARED = "prepared", "Prepared"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DEFERRED = "deferred", "Deferred (temporary error)"
        FAILED = "failed", "Failed"
        INTERRUPTED = "interrupted", "Interrupted (not sent again)"
        SKIPPED = "skipped", "Not needed any more"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="deliveries")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    step = models.PositiveSmallIntegerField(help_text="0 for the invitation, 1 and 2 for reminders.")
    message_id = models.CharField(max_length=255, unique=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PREPARED)
    planned_at = models.DateTimeField(default=timezone.now)
    sending_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When the recipient's bookkeeping and the lifecycle event for it committed (after `sent`, per group).
    recorded_at = models.DateTimeField(null=True, blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    smtp_reply = models.TextField(blank=True, help_text="The mail server's last answer when it was not a plain OK.")
    # A person sent an interrupted message again: same Message-ID, with Resent-* headers (detectable).
    resent = models.BooleanField(default=False)

    class Meta:
        ordering = ["planned_at", "id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["recipient", "step"], name="delivery_unique_step"),
            models.CheckConstraint(condition=Q(step__lte=MAX_REMINDERS), name="delivery_step_range"),
        ]
        indexes = [
            # What the sender picks up: prepared messages, and deferred ones whose retry time came.
            models.Index(
                fields=["state", "retry_at"],
                name="delivery_pending_idx",
                condition=Q(state__in=["prepared", "deferred"]),
            ),
            models.Index(fields=["sending_at"], name="delivery_sending_idx", condition=Q(state="sending")),
            # Sent messages a crash left unrecorded (upkeep.invitations_recover).
            models.Index(
                fields=["sent_at"], name="delivery_unrecorded_idx", condition=Q(state="sent", recorded_at__isnull=True)
            ),
            # The daily cap: today's messages per brand, read from the index alone.
            models.Index(fields=["planned_at", "brand"], name="delivery_day_brand_idx"),
        ]

    def __str__(self) -> str:
        return f"{'invitation' if self.step == 0 else f'reminder {self.step}'} to {self.recipient_id} ({self.state})"


class Suppression(models.Model):
    """A brand never writes to these addresses again: no upload or API call can override it.

    Only a hash of the address is kept (addresses.email_hash), so the list holds no personal data and
    survives the erasure of everything else about the customer.
    """

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Hard bounce"
        COMPLAINED = "complained", "Complaint"
        ERASED = "erased", "Data erased on request"
        MANUAL = "manual", "Added by the brand"

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    email_hash = models.CharField(max_length=64)
    reason = models.CharField(max_length=14, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["brand", "email_hash"], name="suppression_unique_per_brand")]

    def __str__(self) -> str:
        return f"{self.email_hash[:12]}… ({self.get_reason_display()})"


class ImportJob(TimeStamped):
    """A CSV upload, imported in the background in checkpointed chunks with a per-row report."""

    class Status(models.TextChoices):
        MAPPING = "mapping", "Waiting for the column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="imports")
    # Private, deleted once imported: only the report stays.
    file = models.FileField(storage=private_storage, upload_to="imports/%Y/%m/", blank=True)
    original_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    headers = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True, help_text="Field -> the CSV column it is read from.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.MAPPING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0, help_text="Rows done; a resumed import starts after them.")
    added = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"], name="import_sweep_idx")]

    def __str__(self) -> str:
        return f"{self.original_name or 'CSV'} → {self.campaign}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, round(100 * self.processed_rows / self.total_rows)) if self.total_rows else 0


class ImportIssue(models.Model):
    """A row that was not added, and why, in words the brand can act on."""

    class Kind(models.TextChoices):
        INVALID_EMAIL = "invalid_email", "Bad email"
        MISSING = "missing", "Missing value"
        DUPLICATE = "duplicate", "Duplicate"
        SUPPRESSED = "suppressed", "Suppressed address"
        INVALID_VALUE = "invalid_value", "Bad value"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    row_number = models.PositiveIntegerField(help_text="As a spreadsheet numbers it: the header is row 1.")
    kind = models.CharField(max_length=14, choices=Kind.choices)
    message = models.CharField(max_length=300)
    # The email as written (may be personal data): erased with the customer, found by its hash.
    value = models.CharField(max_length=254, blank=True)
    email_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["row_number", "id"]

    def __str__(self) -> str:
        return f"row {self.row_number}: {self.message}"


__all__ = [
    "DEFAULT_BODY", "DEFAULT_SUBJECT", "MAX_REMINDERS", "OPEN_STATUSES", "RECIPIENT_TRANSITIONS", "Campaign",
    "Delivery", "ImportIssue", "ImportJob", "Recipient", "RecipientEvent", "RecipientStatus", "SenderProfile",
    "Suppression", "default_reminder_days", "submission_key_for",
]  # fmt: skip
