"""Insights follow the lifecycle: when a brand's topic vocabulary changes, its testimonials are read again."""

from __future__ import annotations

from testimonials.insights.services import topics_reread_request
from testimonials.lifecycle.models import EventType, OutboxEntry
from testimonials.lifecycle.subscribers import subscribe


def insights_follow_lifecycle(entries: list[OutboxEntry]) -> None:
    topics_reread_request(brand_ids={entry.brand_id for entry in entries})


subscribe("insights", events=[EventType.TOPIC_CHANGE], handler=insights_follow_lifecycle)
