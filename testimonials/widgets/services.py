"""Publishing widgets as static files whenever what they show changes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from testimonials import queue
from testimonials.errors import PermissionDenied
from testimonials.lifecycle.events import record
from testimonials.models import EventType, Testimonial, Widget
from testimonials.security import frame_ancestors
from testimonials.selectors import user_can_edit_brand
from testimonials.widgets import files
from testimonials.widgets.render import widget_render

# Several approvals in a row become one publish: the task waits this long, then renders once.
PUBLISH_DEBOUNCE_SECONDS = 1.0


def widgets_request_publish(*, brand_ids: Iterable[int] = (), widget_ids: Iterable[int] = ()) -> list[int]:
    """Ask for these widgets, and every widget of these brands, to be republished after commit (debounced).

    Called by the widgets' lifecycle subscriber (subscriber.py), the only caller outside this module.
    """
    brand_ids, widget_ids = set(brand_ids), set(widget_ids)
    if not brand_ids and not widget_ids:
        return []
    wanted = Widget.objects.filter(Q(brand_id__in=brand_ids) | Q(id__in=widget_ids))
    ids = sorted(wanted.values_list("id", flat=True))
    if not ids:
        return []
    Widget.objects.filter(id__in=ids).update(publish_requested_at=timezone.now())
    from testimonials.widgets.tasks import widget_publish_task  # tasks import this module

    for widget_id in ids:
        queue.send_on_commit(widget_publish_task, widget_id, countdown=PUBLISH_DEBOUNCE_SECONDS)
    return ids


@transaction.atomic
def widget_publish_request(*, widget: Widget, actor) -> Widget:
    """Publish a widget again now (an editor's or an API call's "publish"); the task renders it after commit."""
    if not user_can_edit_brand(actor, widget.brand):
        raise PermissionDenied("Only the brand's owners and editors can publish its widgets.")
    widgets_request_publish(widget_ids=[widget.id])
    widget.refresh_from_db(fields=["publish_requested_at"])
    return widget


def widgets_republish_stale(*, older_than_seconds: float = 60) -> list[int]:
    """For the periodic sweeper: enqueue widgets whose publish was asked for and never happened
    (the broker was down when it was asked, or the worker died). Returns their ids."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    stale = Widget.objects.filter(publish_requested_at__lt=cutoff).filter(
        Q(published_at__isnull=True) | Q(published_at__lt=F("publish_requested_at"))
    )
    widget_ids = list(stale.values_list("id", flat=True))
    from testimonials.widgets.tasks import widget_publish_task  # tasks import this module

    for widget_id in widget_ids:
        queue.send(widget_publish_task, widget_id)
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
def widget_save(*, widget: Widget, actor, created: bool, changed: Iterable[str] = ()) -> Widget:
    """Store a widget's settings as a person set them, and record it: its subscriber republishes it.

    `widget` carries the new values (the admin's form filled it); `changed` names the fields, for the trail.
    """
    if not user_can_edit_brand(actor, widget.brand):
        raise PermissionDenied("Only the brand's owners and editors can change its widgets.")
    widget.full_clean()
    widget.save()
    changed = sorted(changed)
    record(
        event=EventType.WIDGET_CHANGE,
        widget=widget,
        actor=actor,
        note="Created." if created else (f"Changed {', '.join(changed)}." if changed else "Saved."),
    )
    return widget


@transaction.atomic
def widget_delete(*, widget: Widget, actor) -> None:
    """Delete a widget; its subscriber then removes every file it published: old snippets show nothing."""
    if not user_can_edit_brand(actor, widget.brand):
        raise PermissionDenied("Only the brand's owners and editors can delete its widgets.")
    record(event=EventType.WIDGET_DELETE, widget=widget, actor=actor, note=f"Deleted widget {widget.name!r}.")
    Widget.objects.filter(id=widget.id).delete()
