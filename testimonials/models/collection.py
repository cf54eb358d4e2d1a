"""What a brand collects with: hosted collection forms and the mode of each of their fields."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from testimonials.models.base import HEX_COLOUR, TimeStamped
from testimonials.models.brands import Brand

# The languages Vouch's customer pages and widget chrome are translated into (locale/); settings.LANGUAGES
# lists the same codes, and a test fails when the two drift.
LANGUAGE_CHOICES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("pt", "Português"),
    ("ja", "日本語"),
    ("ar", "العربية"),
]


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
    # Custom questions are FormQuestion rows (form.questions), read through collection/fields.py.
    language = models.CharField(
        max_length=8,
        choices=[("", "The visitor's browser language"), *LANGUAGE_CHOICES],
        blank=True,
        default="",
        help_text="The language of the page's own text (labels, buttons, messages). Your questions are shown as typed.",
    )

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

    # Branding: empty means the brand's own logo and accent, and Vouch's light background.
    logo = models.ImageField(upload_to="forms/logos/", blank=True, help_text="Empty: the brand's logo.")
    accent_color = models.CharField(
        max_length=7, blank=True, validators=[HEX_COLOUR], help_text="Buttons and stars. Empty: the brand's accent."
    )
    background_color = models.CharField(
        max_length=7, blank=True, validators=[HEX_COLOUR], help_text="The page behind the form. Empty: light grey."
    )
    button_text = models.CharField(max_length=60, blank=True, help_text='Empty: "Send my testimonial".')

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


class QuestionKind(models.TextChoices):
    """The kinds of custom question; collection/fields.py has a field builder for each (a test checks it)."""

    SHORT_TEXT = "short_text", "Short text"
    LONG_TEXT = "long_text", "Long text"
    CHOICE = "choice", "Choice (pick one)"
    YES_NO = "yes_no", "Yes or no"


class FormQuestion(models.Model):
    """A brand's own question on a form, typed, ordered and optionally required."""

    form = models.ForeignKey(CollectionForm, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=300, verbose_name="question")
    kind = models.CharField(max_length=12, choices=QuestionKind.choices, default=QuestionKind.LONG_TEXT)
    required = models.BooleanField(default=False)
    choices = models.TextField(blank=True, help_text="For a choice question: one choice per line.")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    def clean(self) -> None:
        if self.kind == QuestionKind.CHOICE and len(self.choice_list) < 2:
            raise ValidationError({"choices": "A choice question needs at least two choices, one per line."})
        if self.kind != QuestionKind.CHOICE and self.choice_list:
            raise ValidationError({"choices": "Only a choice question has choices: empty this box or change its type."})
