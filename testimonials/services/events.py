"""The audit trail: every state change of a testimonial writes one ModerationEvent."""

from __future__ import annotations

from collections.abc import Sequence

from testimonials.models import ModerationEvent, Testimonial


def event_record(
    *,
    testimonial: Testimonial,
    action: str,
    actor=None,
    from_state: str = "",
    to_state: str = "",
    reasons: Sequence[str] = (),
    note: str = "",
) -> ModerationEvent:
    return ModerationEvent.objects.create(
        testimonial=testimonial,
        actor_kind=ModerationEvent.Actor.HUMAN if actor is not None else ModerationEvent.Actor.SYSTEM,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reasons=list(reasons),
        note=note,
    )
