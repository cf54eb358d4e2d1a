"""Publishing widgets as static files whenever what they show changes."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from testimonials import queue
from testimonials.models import Widget

# Several approvals in a row become one publish: the task waits this long, then renders once.
PUBLISH_DEBOUNCE_SECONDS = 1.0


def widgets_request_publish(*, brand_id: int) -> list[int]:
    """Ask for every widget of a brand to be republished after commit (debounced)."""
    widget_ids = list(Widget.objects.filter(brand_id=brand_id).values_list("id", flat=True))
    if not widget_ids:
        return []
    Widget.objects.filter(id__in=widget_ids).update(publish_requested_at=timezone.now())
    for widget_id in widget_ids:
        transaction.on_commit(
            lambda widget_id=widget_id: queue.enqueue_widget_publish(widget_id, countdown=PUBLISH_DEBOUNCE_SECONDS)
        )
    return widget_ids
