"""What the widgets learn from the sites they are pasted on: where a widget was refused."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from testimonials.models.widgets import Widget

# A widget remembers this many refused sites (the most recent): a report is unauthenticated, so
# nobody can grow the table without bound by inventing origins.
BLOCKED_ORIGINS_KEPT = 20


class WidgetBlockedOrigin(models.Model):
    """A site that tried to show a widget but is not among its allowed sites ("blocked on <origin>").

    Reported by the embed snippet from the host page (the browser sets the Origin header); the
    admin shows it on the widget until the site is allowed or the report is a month old.
    """

    widget = models.ForeignKey(Widget, on_delete=models.CASCADE, related_name="blocked_origins")
    origin = models.CharField(max_length=200)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    reports = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [models.UniqueConstraint(fields=["widget", "origin"], name="blocked_origin_unique")]

    def __str__(self) -> str:
        return f"{self.widget_id} blocked on {self.origin}"
