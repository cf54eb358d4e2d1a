"""What is shown: widgets, published as static files, and their hand-picked testimonials."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from testimonials.models.base import HEX_COLOUR, TimeStamped, new_public_id, valid_origins
from testimonials.models.brands import Brand, Tag
from testimonials.models.collection import LANGUAGE_CHOICES, CollectionForm
from testimonials.models.testimonials import Testimonial


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
        # The widget reads the page it sits on (embed.js) and turns dark on a dark page.
        AUTO = "auto", "Match the host page"

    class Selection(models.TextChoices):
        RULES = "rules", "By rules"
        MANUAL = "manual", "Hand-picked"

    class Order(models.TextChoices):
        NEWEST = "newest", "Newest first"
        FEATURED = "featured", "Featured first"
        MANUAL = "manual", "Pinned order"
        # Thompson sampling per page view over the goal below (testimonials/influence): featured stay first.
        AUTO = "auto", "Best performing (auto)"

    class Goal(models.TextChoices):
        """What "best performing" means for an auto-ordered widget: the action counted per real view."""

        CLICK = "click", "Clicks (author link, read more, share)"
        PLAY = "play", "Video plays"
        CONVERSION = "conversion", "Conversions on your site"

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
    # A topic code (moderation/topics.py or the brand's own): "show what people say about support".
    filter_topic = models.CharField(max_length=60, blank=True)
    filter_featured = models.BooleanField(default=False)
    # A display rule, never a moderation one: the widget is then labelled "Selected testimonials",
    # and its rating summary still counts every eligible review (FTC 16 CFR 465).
    min_rating = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    max_items = models.PositiveSmallIntegerField(default=12, validators=[MinValueValidator(1), MaxValueValidator(100)])
    order = models.CharField(max_length=10, choices=Order.choices, default=Order.FEATURED)
    auto_goal = models.CharField("goal of the auto order", max_length=10, choices=Goal.choices, default=Goal.CONVERSION)

    theme = models.CharField(max_length=5, choices=Theme.choices, default=Theme.LIGHT)
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, default="en")
    accent_color = models.CharField(max_length=7, blank=True, validators=[HEX_COLOUR])
    corner_radius = models.PositiveSmallIntegerField(default=12, validators=[MaxValueValidator(32)])
    # Empty: the brand's allowed domains.
    allowed_domains = models.JSONField(default=list, blank=True, validators=[valid_origins])
    schema_kind = models.CharField(max_length=10, choices=SchemaKind.choices, blank=True, default="")
    schema_item_name = models.CharField(max_length=200, blank=True)

    published_version = models.CharField(max_length=64, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    publish_requested_at = models.DateTimeField(null=True, blank=True)
    # The first-run checklist's "snippet copied" (the admin's Copy button).
    snippet_copied_at = models.DateTimeField(null=True, blank=True)

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
