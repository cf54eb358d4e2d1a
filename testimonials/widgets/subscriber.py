"""Widgets follow the lifecycle: whatever changes what a brand's widgets show republishes them.

A testimonial's change matters when it moves into or out of a state widgets show or count
(WIDGET_STATES), or changes while in one (featured, tagged, edited, its photo ready). Brand
settings republish the brand's widgets; a widget's settings republish that widget; a deleted
widget's files are removed, so snippets still on brands' sites show nothing instead of a stale copy.
"""

from __future__ import annotations

from testimonials.lifecycle.models import TESTIMONIAL_EVENTS, EventType, OutboxEntry
from testimonials.lifecycle.subscribers import subscribe
from testimonials.models import WIDGET_STATES
from testimonials.widgets import files
from testimonials.widgets.services import widgets_request_publish

# A brand's look, forms (a widget may show one form's reviews), tags (a widget may show one tag) and
# its testimonials' topics once read again (a widget may show one topic) all shape what its widgets show.
BRAND_WIDE = frozenset({EventType.BRAND_CHANGE, EventType.FORM_CHANGE, EventType.TAG_CHANGE, EventType.TOPICS_REREAD})
EVENTS = (TESTIMONIAL_EVENTS - {EventType.RECEIVED}) | BRAND_WIDE | {EventType.WIDGET_CHANGE, EventType.WIDGET_DELETE}


def changes_what_widgets_show(entry: OutboxEntry) -> bool:
    if entry.event in TESTIMONIAL_EVENTS:
        return bool(entry.states & WIDGET_STATES)
    return entry.event in BRAND_WIDE or entry.event == EventType.WIDGET_CHANGE


def widgets_follow_lifecycle(entries: list[OutboxEntry]) -> None:
    brands = {e.brand_id for e in entries if e.event != EventType.WIDGET_CHANGE and changes_what_widgets_show(e)}
    widgets = {e.widget_id for e in entries if e.event == EventType.WIDGET_CHANGE}
    widgets_request_publish(brand_ids=brands, widget_ids=widgets)
    # Deleting files is idempotent, so it happens before the receipt commits: a crash repeats it,
    # never skips it. (Republishing waits for commit: the task must see publish_requested_at.)
    for entry in entries:
        if entry.event == EventType.WIDGET_DELETE and entry.public_id:
            files.unpublish_files(public_id=entry.public_id)


subscribe("widgets", events=EVENTS, handler=widgets_follow_lifecycle)
