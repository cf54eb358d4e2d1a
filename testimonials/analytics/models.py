"""What the analytics keep: raw events, the rotating visitor salts, daily rollups, and the short-lived
per-visitor rows that attribution and the holdout need.

Two kinds of data, two retentions (docs/analytics.md, "Privacy model"):
- no personal data, kept long: `Event` (raw, ANALYTICS_RAW_RETENTION_DAYS, then deleted by day or by
  partition), `DailyRollup`, `HoldoutDaily`, `ReferralDaily` (forever);
- a visitor key (an HMAC of a salt that is deleted on schedule): `Exposure`, `HoldoutAssignment`,
  `ReferralArrival` and `Conversion.visitor_key`, which live only as long as their `VisitorSalt`: deleting the
  salt deletes them (CASCADE) and blanks the conversions' keys, so no key outlives the attribution window.

Writes go through `analytics.services` (the ingest worker), never from views.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from testimonials.models.brands import Brand
from testimonials.models.testimonials import Testimonial
from testimonials.models.widgets import Widget

MAX_HOLDOUT_PERCENT = 50


class EventKind(models.TextChoices):
    """The vocabulary of beacon events, declared once: the beacon schema, the rollup columns and the
    widget script's codes read from here (a test fails when frame.js or embed.js drift)."""

    IMPRESSION = "imp", "Widget seen"
    VIEW = "view", "Testimonial viewed"
    PLAY = "play", "Video played"
    Q25 = "q25", "Video watched to 25%"
    Q50 = "q50", "Video watched to 50%"
    Q75 = "q75", "Video watched to 75%"
    COMPLETE = "done", "Video watched to the end"
    CLICK_AUTHOR = "c_author", "Author link clicked"
    CLICK_MORE = "c_more", "Read more clicked"
    CLICK_SHARE = "c_share", "Share clicked"
    CLICK_WALL = "c_wall", "Wall link clicked"
    CONVERT = "convert", "Conversion"
    ARRIVE = "arrive", "Arrived through a share link"


# Event kind -> DailyRollup counter it adds one to.
ROLLUP_COLUMN = {
    EventKind.IMPRESSION: "impressions",
    EventKind.VIEW: "views",
    EventKind.PLAY: "plays",
    EventKind.Q25: "q25",
    EventKind.Q50: "q50",
    EventKind.Q75: "q75",
    EventKind.COMPLETE: "completions",
    EventKind.CLICK_AUTHOR: "clicks_author",
    EventKind.CLICK_MORE: "clicks_more",
    EventKind.CLICK_SHARE: "clicks_share",
    EventKind.CLICK_WALL: "clicks_wall",
}


class VisitorSalt(models.Model):
    """A secret that makes visitor keys for one attribution window (ANALYTICS_ATTRIBUTION_DAYS, 1 to 7).

    A visitor key is HMAC-SHA256(secret, brand | client IP | user agent); the IP is never stored. Once
    the window has passed the salt is deleted, and with it every row holding one of its keys, so keys can
    be neither reversed nor joined across windows.
    """

    starts_at = models.DateTimeField(unique=True)
    ends_at = models.DateTimeField()
    secret = models.BinaryField(max_length=32, editable=False)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"salt {self.pk} ({self.starts_at:%Y-%m-%d} to {self.ends_at:%Y-%m-%d})"


class Event(models.Model):
    """One raw beacon event, as the ingest worker wrote it. No visitor key, no IP.

    On PostgreSQL the table is partitioned by `day` (migration 0007, a partition per day made ahead by
    the worker) and old days are dropped whole; on SQLite it is a plain table. `(day, event_id)` is
    unique, so a replayed batch or a worker that drains the same buffer entries twice adds nothing.
    """

    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    received_at = models.DateTimeField()
    event_id = models.CharField(max_length=32)
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    # Plain ids, no database constraint: the ingest path stays one multi-row insert, and rows of a
    # deleted brand or widget go with their day's partition.
    brand = models.ForeignKey(Brand, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    widget = models.ForeignKey(
        Widget, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    testimonial = models.ForeignKey(
        Testimonial, on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    order_id = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "event_id"], name="analytics_event_unique_id")]
        indexes = [models.Index(fields=["brand", "day"], name="analytics_event_brand_day")]

    def __str__(self) -> str:
        return f"{self.kind} {self.event_id} on {self.day}"


class DailyRollup(models.Model):
    """Per brand, widget, testimonial (none: the widget as a whole) and day: what visitors did. Kept forever.

    Counters are event counts, except `visitors` (distinct visitor keys that viewed the testimonial, or saw
    the widget for the widget row, counted once per salt window) and `converters` (those of them who then
    converted within the window). The estimator's baseline for testimonial T is the widget row minus T's.
    Conversions and value are attributed by two rules: `_any` credits every testimonial the visitor viewed
    before converting, `_last` only the last one viewed; the widget row counts conversions of visitors who
    saw the widget. Value is in the brand's reporting currency (`BrandAnalytics.currency`).
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    widget = models.ForeignKey(Widget, on_delete=models.CASCADE, related_name="+")
    testimonial = models.ForeignKey(Testimonial, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    day = models.DateField()

    impressions = models.PositiveIntegerField(default=0)
    views = models.PositiveIntegerField(default=0)
    plays = models.PositiveIntegerField(default=0)
    q25 = models.PositiveIntegerField(default=0)
    q50 = models.PositiveIntegerField(default=0)
    q75 = models.PositiveIntegerField(default=0)
    completions = models.PositiveIntegerField(default=0)
    clicks_author = models.PositiveIntegerField(default=0)
    clicks_more = models.PositiveIntegerField(default=0)
    clicks_share = models.PositiveIntegerField(default=0)
    clicks_wall = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)
    converters = models.PositiveIntegerField(default=0)
    conversions_any = models.PositiveIntegerField(default=0)
    value_any = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    conversions_last = models.PositiveIntegerField(default=0)
    value_last = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            # Two partial indexes rather than one nullable key: NULLs are distinct in a unique index, and the
            # upsert names one of these as its conflict target.
            models.UniqueConstraint(
                fields=["widget", "testimonial", "day"],
                condition=Q(testimonial__isnull=False),
                name="analytics_rollup_unique_testimonial",
            ),
            models.UniqueConstraint(
                fields=["widget", "day"], condition=Q(testimonial__isnull=True), name="analytics_rollup_unique_widget"
            ),
        ]
        indexes = [
            models.Index(fields=["brand", "day"], name="analytics_rollup_brand_day"),
            models.Index(fields=["testimonial", "day"], name="analytics_rollup_t_day"),
        ]

    def __str__(self) -> str:
        return f"widget {self.widget_id} testimonial {self.testimonial_id or '-'} on {self.day}"


class Exposure(models.Model):
    """A visitor (key) saw a widget (testimonial empty: an impression) or viewed a testimonial in it.

    Lives as long as its salt. `converted` is set once when that visitor converts after `first_seen`,
    which adds one to the rollup's `converters` of `day`.
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    salt = models.ForeignKey(VisitorSalt, on_delete=models.CASCADE, related_name="+")
    visitor_key = models.CharField(max_length=32)
    widget = models.ForeignKey(Widget, on_delete=models.CASCADE, related_name="+")
    testimonial = models.ForeignKey(Testimonial, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    day = models.DateField()
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    converted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["salt", "visitor_key", "widget", "testimonial"],
                condition=Q(testimonial__isnull=False),
                name="analytics_exposure_unique_testimonial",
            ),
            models.UniqueConstraint(
                fields=["salt", "visitor_key", "widget"],
                condition=Q(testimonial__isnull=True),
                name="analytics_exposure_unique_widget",
            ),
        ]
        indexes = [models.Index(fields=["brand", "salt", "visitor_key"], name="analytics_exposure_visitor")]

    def __str__(self) -> str:
        return f"{self.visitor_key[:8]}… saw widget {self.widget_id} testimonial {self.testimonial_id or '-'}"


class Conversion(models.Model):
    """A conversion the brand reported (`vouch('convert', ...)`), once per order id.

    Kept as long as raw events; its `visitor_key` is blanked when its salt is deleted. `last_testimonial`
    is what the last-seen rule credited (empty: the visitor had viewed none).
    """

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    salt = models.ForeignKey(VisitorSalt, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    visitor_key = models.CharField(max_length=32, blank=True)
    event_id = models.CharField(max_length=32)
    order_id = models.CharField(max_length=100, blank=True)
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    at = models.DateTimeField(default=timezone.now)
    day = models.DateField()
    testimonials_seen = models.PositiveIntegerField(default=0)
    last_testimonial = models.ForeignKey(
        Testimonial, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-at"]
        constraints = [
            # "Repeats of the same id count once": a thank-you page reloaded, or the same order sent twice.
            models.UniqueConstraint(
                fields=["brand", "order_id"], condition=~Q(order_id=""), name="analytics_conversion_unique_order"
            ),
        ]
        indexes = [models.Index(fields=["brand", "day"], name="analytics_conversion_brand_day")]

    def __str__(self) -> str:
        return f"conversion {self.order_id or self.event_id} for brand {self.brand_id}"


class BrandAnalytics(models.Model):
    """A brand's analytics settings: the currency conversion values are summed in.

    A conversion in another currency counts as a conversion but adds no value (its value stays on the
    Conversion row): summing euros and yen would be a number nobody can read.
    """

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, primary_key=True, related_name="analytics")
    currency = models.CharField(max_length=3, default="EUR", help_text="ISO 4217 code, e.g. EUR or USD.")

    def __str__(self) -> str:
        return f"analytics of brand {self.brand_id}"


class WidgetHoldout(models.Model):
    """Opt-in holdout of a widget: this share of visitors (by visitor key) is not shown it, as a control.

    Published in the widget's index.json, so the static loader knows to ask (its one beacon) whether this
    visitor is held out. 0 turns it off.
    """

    widget = models.OneToOneField(Widget, on_delete=models.CASCADE, primary_key=True, related_name="holdout")
    percent = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(MAX_HOLDOUT_PERCENT)])
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"holdout {self.percent}% of widget {self.widget_id}"


class HoldoutAssignment(models.Model):
    """Which arm a visitor key fell into for a widget, in one salt window. Lives as long as its salt."""

    widget = models.ForeignKey(Widget, on_delete=models.CASCADE, related_name="+")
    salt = models.ForeignKey(VisitorSalt, on_delete=models.CASCADE, related_name="+")
    visitor_key = models.CharField(max_length=32)
    held_out = models.BooleanField()
    percent = models.PositiveSmallIntegerField()
    day = models.DateField()
    converted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["widget", "salt", "visitor_key"], name="analytics_holdout_unique_visitor")
        ]
        indexes = [models.Index(fields=["salt", "visitor_key"], name="analytics_holdout_visitor")]

    def __str__(self) -> str:
        return f"{self.visitor_key[:8]}… {'held out of' if self.held_out else 'shown'} widget {self.widget_id}"


class HoldoutDaily(models.Model):
    """Per widget, day and holdout setting: distinct visitors in each arm, those who converted, and value.
    The sample-ratio-mismatch alarm compares held/(held+shown) with `percent`. Kept forever."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    widget = models.ForeignKey(Widget, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    percent = models.PositiveSmallIntegerField()
    shown_visitors = models.PositiveIntegerField(default=0)
    held_visitors = models.PositiveIntegerField(default=0)
    shown_converters = models.PositiveIntegerField(default=0)
    held_converters = models.PositiveIntegerField(default=0)
    shown_value = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    held_value = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["widget", "day", "percent"], name="analytics_holdoutdaily_unique")
        ]

    def __str__(self) -> str:
        return f"holdout of widget {self.widget_id} on {self.day}"


class ReferralArrival(models.Model):
    """A visitor arrived on the brand's site through a reviewer's share link (the testimonial's referral
    code in the URL). Lives as long as its salt; `converted` is set once when that visitor converts."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    salt = models.ForeignKey(VisitorSalt, on_delete=models.CASCADE, related_name="+")
    visitor_key = models.CharField(max_length=32)
    testimonial = models.ForeignKey(Testimonial, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    first_seen = models.DateTimeField()
    converted = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["salt", "visitor_key", "testimonial"], name="analytics_referral_unique_visitor"
            )
        ]
        indexes = [models.Index(fields=["brand", "salt", "visitor_key"], name="analytics_referral_visitor")]

    def __str__(self) -> str:
        return f"{self.visitor_key[:8]}… arrived through testimonial {self.testimonial_id}"


class ReferralDaily(models.Model):
    """Per testimonial and day: arrivals through its share link (events and distinct visitors), those
    visitors who converted, their conversions and value. Kept forever."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+")
    testimonial = models.ForeignKey(Testimonial, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    arrivals = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0)
    converters = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    value = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["testimonial", "day"], name="analytics_referraldaily_unique")]

    def __str__(self) -> str:
        return f"referrals of testimonial {self.testimonial_id} on {self.day}"
