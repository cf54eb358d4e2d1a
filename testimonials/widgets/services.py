"""Publishing widgets as static files whenever what they show changes."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from testimonials import queue
from testimonials.errors import PermissionDenied
from testimonials.models import Testimonial, Widget
from testimonials.security import frame_ancestors
from testimonials.selectors import user_can_edit_brand
from testimonials.widgets import files
from testimonials.widgets.render import widget_render

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


def widget_request_publish(*, widget_id: int) -> None:
    """Ask for one widget to be republished after commit: call it after changing a widget's settings."""
    Widget.objects.filter(id=widget_id).update(publish_requested_at=timezone.now())
    transaction.on_commit(lambda: queue.enqueue_widget_publish(widget_id, countdown=PUBLISH_DEBOUNCE_SECONDS))


def widgets_republish_stale(*, older_than_seconds: float = 60) -> list[int]:
    """For the periodic sweeper: enqueue widgets whose publish was asked for and never happened
    (the broker was down when it was asked, or the worker died). Returns their ids."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = Widget.objects.filter(publish_requested_at__lt=cutoff).filter(
        Q(published_at__isnull=True) | Q(published_at__lt=F("publish_requested_at"))
    )
    widget_ids = list(stale.values_list("id", flat=True))
    for widget_id in widget_ids:
        queue.enqueue_widget_publish(widget_id)
    return widget_ids


def widget_publish(*, widget_id: int) -> str:
    """Render a widget and write its files if a publish was asked for since the last one.

    Idempotent and debounced: every request enqueues a delayed task, and a task that finds the
    widget already published after the latest request does nothing ("unchanged"). Returns the
    published version, "unchanged" or "missing".
    """
    started = timezone.now()  # taken before reading: a change made while we render asks again
    with transaction.atomic():
        # Serialises concurrent publishes of one widget so an older render never overwrites a newer one.
        widget = Widget.objects.select_for_update().filter(id=widget_id).first()
        if widget is None:
            return "missing"
        requested, published = widget.publish_requested_at, widget.published_at
        if widget.published_version and published and (requested is None or published >= requested):
            return "unchanged"
        rendered = widget_render(widget)
        shown_before = files.previous_item_ids(widget.public_id)
        still_there = set(Testimonial.objects.filter(public_id__in=shown_before).values_list("public_id", flat=True))
        version = files.publish_files(
            public_id=widget.public_id,
            layout=widget.layout,
            document=rendered.document,
            data=rendered.data,
            frame_ancestors=frame_ancestors(widget.allowed_domains or widget.brand.allowed_domains),
            erased_ids=shown_before - still_there,
        )
        Widget.objects.filter(id=widget.id).update(published_version=version, published_at=started)
    return version


@transaction.atomic
def widget_delete(*, widget: Widget, actor) -> None:
    """Delete a widget and, after commit, every file it published: old snippets then show nothing."""
    if not user_can_edit_brand(actor, widget.brand):
        raise PermissionDenied("Only the brand's owners and editors can delete its widgets.")
    public_id = widget.public_id
    Widget.objects.filter(id=widget.id).delete()
    transaction.on_commit(lambda: files.unpublish_files(public_id=public_id))
