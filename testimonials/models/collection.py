"""What a brand collects with: hosted collection forms and the mode of each of their fields."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from testimonials.models.base import TimeStamped
from testimonials.models.brands import Brand


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
