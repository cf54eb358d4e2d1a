"""Publishing widgets as static files whenever what they show changes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from testimonials import queue
from testimonials.analytics.selectors import widget_holdout_percent
from testimonials.errors import PermissionDenied
from testimonials.lifecycle.events import record
from testimonials.models import EventType, Testimonial, Widget, WidgetBlockedOrigin
from testimonials.security import OriginError, frame_ancestors, origin_normalise
from testimonials.selectors import user_can_edit_brand
from testimonials.widgets import files
from testimonials.widgets.models import BLOCKED_ORIGINS_KEPT
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


def widget_allowed_sites(widget: Widget) -> list[str]:
    """The origins that may show the widget: its own list, or else its brand's."""
    return list(widget.allowed_domains or widget.brand.allowed_domains or [])


def widget_publish(*, widget_id: int) -> str:
    """Render a widget and write its files if a publish was asked for since the last one.

    Idempotent and debounced: every request enqueues a delayed task, and a task that finds the
    widget already published after the latest request does nothing ("unchanged"). Returns the
    published version, "unchanged" or "missing".
    """
    started = timezone.now()  # taken before reading: a change made while we render asks again
    with transaction.atomic():
        # Serialises concurrent publishes of one widget so an older render never overwrites a newer one.
        # FOR NO KEY UPDATE of the widget row alone: the default ordering joins the brand, and a plain
        # FOR UPDATE locked that row too, for the whole render, blocking every foreign-key check on the
        # brand and the widget (submits, analytics ingest) and deadlocking with the ingest's commit
        # (bench/soak.py). Publishes still exclude each other; key checks never wait for them.
        widget = Widget.objects.select_for_update(no_key=True, of=("self",)).filter(id=widget_id).order_by("pk").first()
        if widget is None:
            return "missing"
        requested, published = widget.publish_requested_at, widget.published_at
        if widget.published_version and published and (requested is None or published >= requested):
            return "unchanged"
        rendered = widget_render(widget)
        shown_before = files.previous_item_ids(widget.public_id)
        # Shown before and not published any more (erased, rejected, unpublished): the previous version,
        # cached by visitors as immutable, must not stay on the server either.
        still_there = set(
            Testimonial.objects.filter(public_id__in=shown_before).published().values_list("public_id", flat=True)
        )
        ancestors = frame_ancestors(widget_allowed_sites(widget))
        sites = [] if ancestors == "'none'" else ancestors.split()
        version = files.publish_files(
            public_id=widget.public_id,
            layout=widget.layout,
            document=rendered.document,
            data=rendered.data,
            frame_ancestors=ancestors,
            withdrawn_ids=shown_before - still_there,
            pages=rendered.pages,
            # The embed snippet reads these: the theme to match the host page, the allowed sites, to
            # tell the brand when it was pasted somewhere else (public already, in the CSP header), and
            # the holdout share (analytics: the loader then asks whether this visitor is held out).
            pointer_extra={"theme": widget.theme, "allow": sites, "holdout": widget_holdout_percent(widget.id)},
            shown_ids=rendered.shown,
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


# One report per widget and site this often at most: a blocked widget reports on every page view.
BLOCKED_REPORT_EVERY_SECONDS = 600


def widget_report_blocked(*, public_id: str, origin: str) -> bool:
    """Remember that a site not among a widget's allowed sites tried to show it ("blocked on <origin>").

    Called by the public report the embed snippet sends; `origin` is the browser's Origin header.
    At most one write per widget and site every BLOCKED_REPORT_EVERY_SECONDS, and at most
    BLOCKED_ORIGINS_KEPT sites per widget. Returns whether the report was recorded.
    """
    try:
        origin = origin_normalise(origin)
    except OriginError:
        return False
    if not cache.add(f"vouch:blocked:{public_id}:{origin}", 1, BLOCKED_REPORT_EVERY_SECONDS):
        return False
    widget = Widget.objects.select_related("brand").filter(public_id=public_id).first()
    if widget is None or origin in widget_allowed_sites(widget):
        return False
    now = timezone.now()
    with transaction.atomic():
        updated = WidgetBlockedOrigin.objects.filter(widget=widget, origin=origin).update(
            last_seen=now, reports=F("reports") + 1
        )
        if not updated:
            kept = WidgetBlockedOrigin.objects.filter(widget=widget).order_by("-last_seen", "-id")
            stale = list(kept.values_list("id", flat=True)[BLOCKED_ORIGINS_KEPT - 1 :])
            if stale:
                WidgetBlockedOrigin.objects.filter(id__in=stale).delete()
            WidgetBlockedOrigin.objects.get_or_create(widget=widget, origin=origin, defaults={"last_seen": now})
    return True


@transaction.atomic
def widget_mark_snippet_copied(*, widget: Widget, actor) -> Widget:
    """The brand copied the widget's snippet (the first-run checklist's step)."""
    if not user_can_edit_brand(actor, widget.brand):
        raise PermissionDenied("Only the brand's owners and editors can embed its widgets.")
    if widget.snippet_copied_at is None:
        widget.snippet_copied_at = timezone.now()
        Widget.objects.filter(id=widget.id, snippet_copied_at__isnull=True).update(
            snippet_copied_at=widget.snippet_copied_at
        )
    return widget
