"""The webhook event vocabulary, declared once: admin choices, API enums, docs and the subscriber read it.

Each webhook event comes from lifecycle entries (testimonials/lifecycle/models.py::EventType):
  testimonial.received   a testimonial arrived (form, API or import), before moderation
  testimonial.approved   a person or the brand's rules approved it
  testimonial.rejected   a person or the rules rejected it (for a content reason)
  testimonial.published  approved and every photo or video of it ready: what widgets now show
  testimonial.erased     erased at the customer's request: only its id is sent
  invitation.submitted   an invited customer sent their testimonial (testimonials/invitations)
  conversion.recorded    once the lifecycle declares it (the influence issue), with no change here
"""

from __future__ import annotations

from dataclasses import dataclass

from testimonials.lifecycle.models import EventType, OutboxEntry
from testimonials.models import MediaAsset, Testimonial

State = Testimonial.State


@dataclass(frozen=True)
class WebhookEventType:
    name: str  # as sent in the payload's "type"; stored in endpoints' subscriptions: never rename
    label: str
    sources: frozenset[str]  # the lifecycle events it may come from


RECEIVED = "testimonial.received"
APPROVED = "testimonial.approved"
REJECTED = "testimonial.rejected"
PUBLISHED = "testimonial.published"
ERASED = "testimonial.erased"
INVITATION_SUBMITTED = "invitation.submitted"
CONVERSION_RECORDED = "conversion.recorded"

_DECLARED = (
    WebhookEventType(RECEIVED, "A testimonial arrived", frozenset({EventType.RECEIVED})),
    WebhookEventType(APPROVED, "A testimonial was approved", frozenset({EventType.APPROVE, EventType.AUTO_DECISION})),
    WebhookEventType(REJECTED, "A testimonial was rejected", frozenset({EventType.REJECT, EventType.AUTO_DECISION})),
    WebhookEventType(
        PUBLISHED,
        "A testimonial is published (approved, photos and videos ready)",
        frozenset({EventType.APPROVE, EventType.AUTO_DECISION, EventType.MEDIA_READY}),
    ),
    WebhookEventType(ERASED, "A testimonial was erased (GDPR)", frozenset({EventType.ERASE})),
    # Sent once the lifecycle has these events (issues 13 and 11); absent until then.
    WebhookEventType(
        INVITATION_SUBMITTED, "An invited customer sent their testimonial", frozenset({"invitation.submitted"})
    ),
    WebhookEventType(
        CONVERSION_RECORDED, "A conversion was credited to testimonials", frozenset({"conversion.recorded"})
    ),
)
# Only the event types whose lifecycle events exist today.
EVENT_TYPES: tuple[WebhookEventType, ...] = tuple(e for e in _DECLARED if e.sources & set(EventType.values))
BY_NAME: dict[str, WebhookEventType] = {e.name: e for e in EVENT_TYPES}
CHOICES: list[tuple[str, str]] = [(e.name, e.label) for e in EVENT_TYPES]
# Every lifecycle event the webhooks subscriber needs to hear.
LIFECYCLE_SOURCES: frozenset[str] = frozenset().union(*(e.sources for e in EVENT_TYPES))


def media_settled(item: Testimonial) -> bool:
    """Every photo and video is ready (or failed for good): nothing the widgets wait for."""
    return all(a.status in (MediaAsset.Status.READY, MediaAsset.Status.FAILED) for a in item.media.all())


def event_types_for(entry: OutboxEntry, item: Testimonial | None) -> list[str]:
    """The webhook events one lifecycle entry means, given its testimonial as it is now (None once erased)."""
    event, to_state = entry.event, entry.to_state
    found: list[str] = []
    if event == EventType.RECEIVED:
        found.append(RECEIVED)
    elif event in (EventType.APPROVE, EventType.AUTO_DECISION) and to_state == State.APPROVED:
        found.append(APPROVED)
    elif event in (EventType.REJECT, EventType.AUTO_DECISION) and to_state == State.REJECTED:
        found.append(REJECTED)
    elif event == EventType.ERASE:
        found.append(ERASED)
    # Published: approved with nothing left to wait for, whichever of the two happened last.
    becomes_visible = event == EventType.MEDIA_READY or APPROVED in found
    if becomes_visible and item is not None and item.state == State.APPROVED and media_settled(item):
        found.append(PUBLISHED)
    for optional in (INVITATION_SUBMITTED, CONVERSION_RECORDED):
        if optional in BY_NAME and event in BY_NAME[optional].sources:
            found.append(optional)
    return [name for name in found if name in BY_NAME]
