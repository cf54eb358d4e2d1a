"""What influence keeps: the share image of each published testimonial, and what each auto-ordered
widget last published (so the periodic refresh republishes only widgets whose rollups moved)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from testimonials.models.testimonials import Testimonial
from testimonials.models.widgets import Widget


class ShareImage(models.Model):
    """The 1200x630 social preview of a testimonial's public page, rendered by a worker when it is
    approved or edited (never per request). `path` is in the default storage and changes with the content."""

    testimonial = models.OneToOneField(Testimonial, on_delete=models.CASCADE, primary_key=True, related_name="+")
    path = models.CharField(max_length=200)
    digest = models.CharField(max_length=16)
    rendered_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"share image of testimonial {self.testimonial_id}"


class AutoOrderState(models.Model):
    """The counts an auto-ordered widget's published posteriors were computed from (as a digest)."""

    widget = models.OneToOneField(Widget, on_delete=models.CASCADE, primary_key=True, related_name="+")
    counts_digest = models.CharField(max_length=16, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"auto order of widget {self.widget_id}"
