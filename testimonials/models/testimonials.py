"""What customers send: testimonials with their state machine, media assets and text fingerprints."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import BooleanField, Case, F, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from testimonials.models.base import TimeStamped, https_only, new_public_id, new_referral_code
from testimonials.models.brands import Brand, Tag
from testimonials.models.collection import CollectionForm
from testimonials.moderation.flags import RATING_CODES
from testimonials.storage import private_storage


def testimonial_held_for_content_condition() -> Q:
    """True when a flag on the row is a content flag: any code but those that read the rating.

    Derived from the flag vocabulary (moderation/flags.py): a code that is not declared to read the
    rating is a content reason (gibberish, spam, profanity, a suspected fake...), and so is an
    unknown code on an old row. Held-for-content reviews stay out of rating summaries until a
    person approves them; one held only for a rating and text mismatch still counts (FTC).
    """
    table = Testimonial._meta.db_table
    rating_codes = sorted(RATING_CODES)
    placeholders = ", ".join(["%s"] * len(rating_codes)) or "NULL"
    if connection.vendor == "postgresql":
        elements, code = f"jsonb_array_elements({table}.flags) AS e(value)", "e.value ->> 'code'"
    else:  # SQLite
        elements, code = f"json_each({table}.flags) AS e", "json_extract(e.value, '$.code')"
    return Q(
        RawSQL(  # noqa: S611 - the codes are parameters; the table name is ours
            f"EXISTS (SELECT 1 FROM {elements} WHERE COALESCE({code}, '') NOT IN ({placeholders}))",  # noqa: S608
            rating_codes,
            output_field=BooleanField(),
        )
    )


def testimonial_flagged_expression() -> Case:
    """True when the pipeline attached a flag. The moderation queue orders by it; its indexes repeat it."""
    return Case(When(flags=[], then=Value(False)), default=Value(True), output_field=models.BooleanField())


class TestimonialState(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSING = "processing", "Processing"
    PENDING_REVIEW = "pending_review", "Needs review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Processing failed"


# What waits for a person (the moderation queue): held by the pipeline, or failed.
NEEDS_HUMAN_STATES = (TestimonialState.PENDING_REVIEW, TestimonialState.FAILED)
# What a brand's widgets show (approved) or count in their rating summary (awaiting review):
# a change into or out of these states, or to a row in them, changes what a widget publishes.
WIDGET_STATES = frozenset({TestimonialState.APPROVED, TestimonialState.PENDING_REVIEW})


class TestimonialQuerySet(models.QuerySet):
    def for_brands(self, brands) -> TestimonialQuerySet:
        return self.filter(brand__in=brands)

    def published(self) -> TestimonialQuerySet:
        return self.filter(state=Testimonial.State.APPROVED)

    def rating_eligible(self) -> TestimonialQuerySet:
        """Every genuine review counts in a rating summary, approved or not (FTC: no suppression).

        Left out: reviews removed for a content reason (abuse, spam, fakes), unfinished ones, and
        reviews the pipeline *held* for a content reason until a person approves them, so five
        keyboard-mash 1-star reviews cannot move the public rating (review bombing). A review held
        with no flag, or only for a rating and text mismatch, still counts.
        """
        return self.filter(rating__isnull=False).filter(
            Q(state=Testimonial.State.APPROVED)
            | (Q(state=Testimonial.State.PENDING_REVIEW) & ~testimonial_held_for_content_condition())
        )


class Testimonial(TimeStamped):
    """A customer's testimonial, from a form, an import or an invitation."""

    __test__ = False  # pytest: not a test class despite the name

    class Source(models.TextChoices):
        FORM = "form", "Collection form"
        API = "api", "Sent through the API"
        IMPORT = "import", "Imported"
        INVITE = "invite", "Invitation"

    State = TestimonialState

    class Sentiment(models.TextChoices):
        """moderation/sentiment.py's labels (LABELS); a test fails when the two drift apart."""

        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"
        # A language the scorer cannot read: no score at all, never a fake neutral.
        UNSCORED = "unscored", "Not scored"

    # Allowed state changes. Automatic processing walks the first two lines; people the rest.
    TRANSITIONS: dict[str, set[str]] = {
        State.RECEIVED: {State.PROCESSING, State.APPROVED, State.REJECTED, State.FAILED},
        State.PROCESSING: {State.PENDING_REVIEW, State.APPROVED, State.REJECTED, State.FAILED, State.RECEIVED},
        State.PENDING_REVIEW: {State.APPROVED, State.REJECTED},
        State.APPROVED: {State.REJECTED, State.PENDING_REVIEW},
        State.REJECTED: {State.APPROVED, State.PENDING_REVIEW},
        State.FAILED: {State.RECEIVED, State.APPROVED, State.REJECTED, State.PENDING_REVIEW},
    }

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="testimonials")
    form = models.ForeignKey(
        CollectionForm, on_delete=models.SET_NULL, null=True, blank=True, related_name="testimonials"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.FORM)

    author_name = models.CharField(max_length=120)
    author_email = models.EmailField(blank=True, help_text="Private: never displayed or published.")
    author_title = models.CharField(max_length=120, blank=True)
    author_company = models.CharField(max_length=120, blank=True)
    author_url = models.URLField(blank=True, validators=[https_only])

    rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text = models.TextField(blank=True)
    # Answers to the form's prompts: [{"prompt": "...", "answer": "..."}].
    answers = models.JSONField(default=list, blank=True)

    consent_given = models.BooleanField(default=False)
    consent_text = models.TextField(blank=True, help_text="The exact text the customer agreed to.")
    consented_at = models.DateTimeField(null=True, blank=True)
    marketing_consent = models.BooleanField(default=False)

    is_verified = models.BooleanField(default=False, help_text="Came from an invitation we sent.")
    is_incentivised = models.BooleanField(default=False)

    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    state_changed_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True, help_text="First approve/reject/hold decision.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Processing attempts so far.")
    last_error = models.TextField(blank=True)
    rejection_reason = models.CharField(max_length=300, blank=True)

    featured = models.BooleanField(default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="testimonials")

    # The text's own score (-1..1); null when not scored. The label also weighs the customer's stars.
    sentiment_score = models.FloatField(null=True, blank=True)
    sentiment_label = models.CharField(max_length=10, choices=Sentiment.choices, blank=True)
    sentiment_reason = models.CharField(max_length=300, blank=True, help_text="Why this label, in one sentence.")
    # What it talks about, each topic as moderation.topics.Topic.as_dict(): its code, polarity, quote and terms.
    topics = models.JSONField(default=list, blank=True)
    highlight = models.CharField(max_length=300, blank=True, help_text="The best quotable sentence.")
    # [{"code": "profanity", "reason": "Contains a profane word", "evidence": ["..."]}]
    flags = models.JSONField(default=list, blank=True)
    public_text = models.TextField(blank=True, help_text="Text as displayed: personal data redacted.")
    language = models.CharField(max_length=8, blank=True)

    # A signed form token: a double submit stores one row.
    submission_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    referral_code = models.CharField(max_length=16, unique=True, default=new_referral_code, editable=False)
    referred_by = models.CharField(max_length=16, blank=True)

    # Imported reviews (source=import) keep where and when they were first written; never "verified".
    source_platform = models.CharField(max_length=40, blank=True, help_text="Where an imported review was written.")
    source_url = models.URLField(max_length=500, blank=True, validators=[https_only])
    source_created_at = models.DateTimeField(null=True, blank=True, help_text="When it was written there.")
    # Identifies an imported review within its brand, so uploading the same file again adds nothing.
    import_key = models.CharField(max_length=64, null=True, blank=True, editable=False)

    objects = TestimonialQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="testimonial_rating_1_to_5"
            ),
            models.CheckConstraint(
                condition=Q(consent_given=False) | Q(consented_at__isnull=False),
                name="testimonial_consent_has_time",
            ),
            models.CheckConstraint(
                condition=Q(state__in=TestimonialState.values),
                name="testimonial_state_valid",
            ),
            models.UniqueConstraint(
                fields=["brand", "import_key"],
                condition=Q(import_key__isnull=False),
                name="testimonial_import_once_per_brand",
            ),
        ]
        indexes = [
            # The moderation queue: a brand's items in a state, oldest first.
            models.Index(fields=["brand", "state", "created_at"], name="testimonial_queue_idx"),
            # Widget selection: a brand's approved items, featured first.
            models.Index(fields=["brand", "state", "featured", "created_at"], name="testimonial_widget_idx"),
            # The sweeper: rows stuck in a state for too long.
            models.Index(fields=["state", "state_changed_at"], name="testimonial_sweep_idx"),
            # The admin's full list, newest first, for one brand and for superusers across brands.
            models.Index(fields=["brand", "-created_at"], name="testimonial_brand_recent_idx"),
            models.Index(fields=["-created_at"], name="testimonial_recent_idx"),
            # The dashboard's totals (state, rating, form) read from the index alone.
            models.Index(fields=["brand", "state", "rating", "form"], name="testimonial_dashboard_idx"),
            # The moderation queue in the admin's order (flagged first, then oldest), so its first page
            # reads 50 index entries instead of sorting every waiting row. Partial: waiting rows only.
            models.Index(
                F("brand"),
                testimonial_flagged_expression().desc(),
                F("created_at"),
                name="testimonial_queue_brand_idx",
                condition=Q(state__in=NEEDS_HUMAN_STATES),
            ),
            models.Index(
                testimonial_flagged_expression().desc(),
                F("created_at"),
                name="testimonial_queue_all_idx",
                condition=Q(state__in=NEEDS_HUMAN_STATES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_name} ({self.get_state_display()})"

    def can_move_to(self, state: str) -> bool:
        return state in self.TRANSITIONS.get(self.state, set())

    @classmethod
    def states_that_can_move_to(cls, state: str) -> frozenset[str]:
        """Every state TRANSITIONS lets move to `state`: the admin offers a decision only from these."""
        return frozenset(source for source, targets in cls.TRANSITIONS.items() if state in targets)

    @property
    def is_imported(self) -> bool:
        return self.source == self.Source.IMPORT

    @property
    def written_at(self):
        """When the customer wrote it: the original date of an imported review, else when it arrived."""
        return self.source_created_at or self.created_at


class ContentFingerprint(models.Model):
    """One locality-sensitive hash band of a testimonial's text, to find near-duplicates by index."""

    testimonial = models.ForeignKey(Testimonial, on_delete=models.CASCADE, related_name="fingerprints")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    band = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["band"], name="fingerprint_band_idx")]

    def __str__(self) -> str:
        return f"band {self.band} of {self.testimonial_id}"


class MediaAsset(TimeStamped):
    """A photo, video or avatar attached to a testimonial: the private original and its public renditions."""

    class Kind(models.TextChoices):
        PHOTO = "photo", "Photo"
        VIDEO = "video", "Video"
        AVATAR = "avatar", "Avatar"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    testimonial = models.ForeignKey(Testimonial, on_delete=models.CASCADE, related_name="media")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Private, under a server-chosen name; never served.
    original = models.FileField(storage=private_storage, upload_to="originals/%Y/%m/", blank=True)
    original_name = models.CharField(max_length=200, blank=True, help_text="The name the customer's file had.")
    content_type = models.CharField(max_length=60, blank=True, help_text="Detected from content, not the name.")
    size_bytes = models.BigIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # Public renditions in the default storage:
    # {"card.webp": {"path": "...", "width": 640, "height": 480, "bytes": 12345}, "poster.jpg": ..., "video.mp4": ...}
    derivatives = models.JSONField(default=dict, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    attempts = models.PositiveSmallIntegerField(default=0)
    status_changed_at = models.DateTimeField(default=timezone.now)
    error = models.TextField(blank=True, help_text="Why processing failed, in words an admin can act on.")

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="media_progress_percent"),
        ]
        indexes = [models.Index(fields=["status", "status_changed_at"], name="media_sweep_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.testimonial_id} ({self.status})"
