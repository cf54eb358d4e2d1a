"""A brand's own topics: a name and the terms that name it in reviews ("Barista": barista, latte art)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from testimonials.models.base import TimeStamped
from testimonials.models.brands import Brand
from testimonials.moderation import topics

MAX_TOPICS_PER_BRAND = 40


class BrandTopic(TimeStamped):
    """A topic of the brand's own, or more terms for a built-in one (a topic named "Support" adds to support)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="own_topics")
    name = models.CharField(max_length=60, help_text="What the dashboard and tag suggestions call it.")
    code = models.CharField(max_length=60, editable=False)
    terms = models.JSONField(
        default=list,
        blank=True,
        help_text="Words and phrases that name it in reviews; inflected forms match too (answer: answered, answers).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["brand", "code"], name="brandtopic_unique_code_per_brand")]

    def __str__(self) -> str:
        return self.name

    @property
    def extends_builtin(self) -> bool:
        return self.code in topics.builtin_labels()

    def clean(self) -> None:
        self.name = " ".join(self.name.split())
        self.code = topics.topic_code(self.name)
        if not self.code:
            raise ValidationError({"name": "Give the topic a name with letters or digits."})
        try:
            self.terms = topics.clean_terms(self.terms if isinstance(self.terms, list) else [])
        except ValueError as exc:
            raise ValidationError({"terms": str(exc)}) from exc
        if not self.terms and not self.extends_builtin:
            raise ValidationError({"terms": "List at least one word or phrase that names this topic."})
        if self.brand_id:
            others = BrandTopic.objects.filter(brand_id=self.brand_id).exclude(pk=self.pk)
            if others.filter(code=self.code).exists():
                raise ValidationError({"name": "This brand already has a topic of that name."})
            if not self.pk and others.count() >= MAX_TOPICS_PER_BRAND:
                raise ValidationError(f"A brand has at most {MAX_TOPICS_PER_BRAND} topics of its own.")


class TopicReread(models.Model):
    """How far reading a brand's testimonials again for topics has got: durable, so that a lost message
    or a dead worker resumes where it stopped (the sweeper), and a newer vocabulary change restarts it."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, primary_key=True, related_name="+")
    generation = models.PositiveIntegerField(default=0, help_text="One per vocabulary change; an older run stops.")
    after_id = models.BigIntegerField(default=0, help_text="Testimonials up to this id are read.")
    done = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"topics of brand {self.brand_id}: {'done' if self.done else f'after #{self.after_id}'}"
