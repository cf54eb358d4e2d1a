"""Vouch's data: tenants (brands), what they collect, what customers send, and what is shown.

Only data and small invariants live here (choices, constraints, querysets). Every write goes
through `testimonials.services`, every non-trivial read through `testimonials.selectors`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from testimonials.storage import private_storage

HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #4f46e5.")


def https_only(value: str) -> None:
    """Customer-given links are shown on other people's sites: only https is safe to link."""
    if value and not value.lower().startswith("https://"):
        raise ValidationError("Links must start with https://.")


def new_public_id() -> str:
    """An unguessable id for anything that appears in public URLs; internal ids never do."""
    return secrets.token_urlsafe(9)


def new_referral_code() -> str:
    return secrets.token_urlsafe(6)


class TimeStamped(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


# --------------------------------------------------------------------------- tenants


class Brand(TimeStamped):
    """The tenant. Everything below belongs to exactly one brand."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    logo = models.ImageField(upload_to="brands/logos/", blank=True)
    accent_color = models.CharField(max_length=7, default="#4f46e5", validators=[HEX_COLOUR])
    website = models.URLField(blank=True, validators=[https_only])
    # Origins (https://shop.example.com) allowed to frame forms and widgets of this brand.
    allowed_domains = models.JSONField(default=list, blank=True)
    # Moderation policy. There is deliberately no rating-based option (FTC 16 CFR 465).
    auto_approve = models.BooleanField(
        default=False, help_text="Publish testimonials automatically when nothing is flagged."
    )
    blocklist = models.JSONField(default=list, blank=True, help_text="Extra words that hold a testimonial for review.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStamped):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"  # everything, members included
        EDITOR = "editor", "Editor"  # moderate, forms, widgets
        VIEWER = "viewer", "Viewer"  # read only

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.EDITOR)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "brand"], name="membership_unique_user_brand")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.brand} ({self.role})"


class Tag(TimeStamped):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["brand", "slug"], name="tag_unique_slug_per_brand")]

    def __str__(self) -> str:
        return self.name


# --------------------------------------------------------------------------- collection


class FieldMode(models.TextChoices):
    OFF = "off", "Not asked"
    OPTIONAL = "optional", "Optional"
    REQUIRED = "required", "Required"


class CollectionForm(TimeStamped):
    """A hosted page at /c/<brand>/<form>/ where customers leave a testimonial."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="forms")
    slug = models.SlugField(max_length=60)
    title = models.CharField(max_length=160)
    intro = models.TextField(blank=True)
    # Custom questions shown above the text box: ["What did you try before us?", ...].
    prompts = models.JSONField(default=list, blank=True)

    rating_mode = models.CharField(max_length=10, choices=FieldMode.choices, default=FieldMode.REQUIRED)
    text_mode = models.CharField(max_length=10, choices=FieldMode.choices, default=FieldMode.REQUIRED)
    text_min_length = models.PositiveIntegerField(default=10)
    text_max_length = models.PositiveIntegerField(default=2000)
    email_mode = models.CharField(max_length=10, choices=FieldMode.choices, default=FieldMode.OPTIONAL)
    title_mode = models.CharField(max_length=10, choices=FieldMode.choices, default=FieldMode.OPTIONAL)
    company_mode = models.CharField(max_length=10, choices=FieldMode.choices, default=FieldMode.OPTIONAL)
    link_mode = models.CharField(max_length=10, choices=FieldMode.choices, default=FieldMode.OFF)
    avatar_mode = models.CharField(max_length=10, choices=FieldMode.choices, default=FieldMode.OPTIONAL)
    photo_mode = models.CharField(max_length=10, choices=FieldMode.choices, default=FieldMode.OPTIONAL)
    video_mode = models.CharField(max_length=10, choices=FieldMode.choices, default=FieldMode.OPTIONAL)
    video_max_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(600)]
    )

    consent_text = models.TextField(
        default="I agree that my testimonial, name and media may be shown publicly by this brand."
    )
    marketing_consent_text = models.TextField(blank=True, help_text="Leave empty to not ask.")
    # When set, submissions are badged as incentivised (FTC: the incentive never depends on sentiment).
    incentive = models.CharField(max_length=200, blank=True)
    thank_you_message = models.TextField(default="Thank you! Your testimonial means a lot to us.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["brand", "title"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "slug"], name="form_unique_slug_per_brand"),
            models.CheckConstraint(
                condition=Q(text_min_length__lte=models.F("text_max_length")), name="form_text_length_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand.slug}/{self.slug}"


# --------------------------------------------------------------------------- testimonials


def testimonial_flagged_expression() -> Case:
    """True when the pipeline attached a flag. The moderation queue orders by it; its indexes repeat it."""
    return Case(When(flags=[], then=Value(False)), default=Value(True), output_field=models.BooleanField())


# What waits for a person (the moderation queue): held by the pipeline, or failed.
NEEDS_HUMAN_STATES = ("pending_review", "failed")


class TestimonialQuerySet(models.QuerySet):
    def for_brands(self, brands) -> TestimonialQuerySet:
        return self.filter(brand__in=brands)

    def published(self) -> TestimonialQuerySet:
        return self.filter(state=Testimonial.State.APPROVED)

    def rating_eligible(self) -> TestimonialQuerySet:
        """Every genuine review counts in a rating summary, approved or not (FTC: no suppression).

        Only reviews removed for a content reason (abuse, spam, fakes) and unfinished ones are left out.
        """
        return self.filter(
            rating__isnull=False,
            state__in=[Testimonial.State.APPROVED, Testimonial.State.PENDING_REVIEW],
        )


class Testimonial(TimeStamped):
    """A customer's testimonial, from a form, an import or an invitation."""

    __test__ = False  # pytest: not a test class despite the name

    class Source(models.TextChoices):
        FORM = "form", "Collection form"
        IMPORT = "import", "Imported"
        INVITE = "invite", "Invitation"

    class State(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSING = "processing", "Processing"
        PENDING_REVIEW = "pending_review", "Needs review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Processing failed"

    class Sentiment(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEUTRAL = "neutral", "Neutral"
        NEGATIVE = "negative", "Negative"

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

    sentiment_score = models.FloatField(null=True, blank=True)
    sentiment_label = models.CharField(max_length=10, choices=Sentiment.choices, blank=True)
    highlight = models.CharField(max_length=300, blank=True, help_text="The best quotable sentence.")
    # [{"code": "profanity", "reason": "Contains a profane word", "evidence": ["..."]}]
    flags = models.JSONField(default=list, blank=True)
    public_text = models.TextField(blank=True, help_text="Text as displayed: personal data redacted.")
    language = models.CharField(max_length=8, blank=True)

    # A signed form token: a double submit stores one row.
    submission_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    referral_code = models.CharField(max_length=16, unique=True, default=new_referral_code, editable=False)
    referred_by = models.CharField(max_length=16, blank=True)

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
                condition=Q(state__in=["received", "processing", "pending_review", "approved", "rejected", "failed"]),
                name="testimonial_state_valid",
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

    @property
    def is_imported(self) -> bool:
        return self.source == self.Source.IMPORT


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


class ModerationEvent(models.Model):
    """The audit trail of a testimonial, from received to displayed. Append-only."""

    class Actor(models.TextChoices):
        SYSTEM = "system", "Automatic"
        HUMAN = "human", "Person"

    testimonial = models.ForeignKey(Testimonial, on_delete=models.CASCADE, related_name="events")
    actor_kind = models.CharField(max_length=10, choices=Actor.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    action = models.CharField(max_length=30)  # received, auto_decision, approve, reject, feature, edit, ...
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["testimonial", "created_at"], name="event_trail_idx")]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state} -> {self.to_state}"


# --------------------------------------------------------------------------- display


class Widget(TimeStamped):
    """An embeddable display of a brand's testimonials, published as static files."""

    class Layout(models.TextChoices):
        WALL = "wall", "Wall of love"
        CAROUSEL = "carousel", "Carousel"
        CARD = "card", "Single card"
        BADGE = "badge", "Rating badge"
        AVATARS = "avatars", "Avatar strip"
        TOAST = "toast", "Social-proof toast"

    class Theme(models.TextChoices):
        LIGHT = "light", "Light"
        DARK = "dark", "Dark"
        AUTO = "auto", "Follow the visitor's system"

    class Selection(models.TextChoices):
        RULES = "rules", "By rules"
        MANUAL = "manual", "Hand-picked"

    class Order(models.TextChoices):
        NEWEST = "newest", "Newest first"
        FEATURED = "featured", "Featured first"
        MANUAL = "manual", "Pinned order"

    class SchemaKind(models.TextChoices):
        NONE = "", "No structured data"
        PRODUCT = "Product", "Product"
        SERVICE = "Service", "Service"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="widgets")
    name = models.CharField(max_length=120)
    layout = models.CharField(max_length=10, choices=Layout.choices, default=Layout.WALL)

    selection = models.CharField(max_length=10, choices=Selection.choices, default=Selection.RULES)
    picks = models.ManyToManyField(Testimonial, through="WidgetPick", blank=True, related_name="+")
    filter_tags = models.ManyToManyField(Tag, blank=True, related_name="widgets")
    filter_form = models.ForeignKey(CollectionForm, on_delete=models.SET_NULL, null=True, blank=True)
    filter_has_video = models.BooleanField(default=False)
    filter_language = models.CharField(max_length=8, blank=True)
    filter_featured = models.BooleanField(default=False)
    max_items = models.PositiveSmallIntegerField(default=12, validators=[MinValueValidator(1), MaxValueValidator(100)])
    order = models.CharField(max_length=10, choices=Order.choices, default=Order.FEATURED)

    theme = models.CharField(max_length=5, choices=Theme.choices, default=Theme.AUTO)
    accent_color = models.CharField(max_length=7, blank=True, validators=[HEX_COLOUR])
    corner_radius = models.PositiveSmallIntegerField(default=12, validators=[MaxValueValidator(32)])
    # Empty: the brand's allowed domains.
    allowed_domains = models.JSONField(default=list, blank=True)
    schema_kind = models.CharField(max_length=10, choices=SchemaKind.choices, blank=True, default="")
    schema_item_name = models.CharField(max_length=200, blank=True)

    published_version = models.CharField(max_length=64, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    publish_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["brand", "name"]

    def __str__(self) -> str:
        return self.name


class WidgetPick(models.Model):
    """A hand-picked testimonial in a widget, in pinned order."""

    widget = models.ForeignKey(Widget, on_delete=models.CASCADE)
    testimonial = models.ForeignKey(Testimonial, on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["widget", "testimonial"], name="widgetpick_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.position} in {self.widget_id}"


# --------------------------------------------------------------------------- integration


class ApiKey(TimeStamped):
    """A secret key for the REST API, scoped to one brand. Only its SHA-256 is stored.

    A key acts on behalf of the member who created it, with that member's current role: when they
    leave the brand, their keys stop working.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80, help_text="What uses this key, e.g. 'Zapier'.")
    prefix = models.CharField(max_length=12, unique=True, help_text="Shown to recognise a key; not secret.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (vk_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
