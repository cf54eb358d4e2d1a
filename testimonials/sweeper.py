"""Accepted work is never lost: the sweeper, run by beat, re-enqueues whatever a broker outage or a
dead worker left behind, and hands undispatched lifecycle entries to their subscribers."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from testimonials.insights.services import topics_reread_sweep
from testimonials.lifecycle.dispatch import lifecycle_sweep
from testimonials.processing.pipeline import testimonials_sweep
from testimonials.renditions.services import media_sweep
from testimonials.widgets.services import widgets_republish_stale


def sweep_stuck(*, older_than: timedelta | None = None) -> dict[str, int]:
    """Everything waiting longer than VOUCH_STUCK_AFTER_SECONDS (or `older_than`), enqueued again. Safe anytime."""
    now = timezone.now()
    cutoff = now - (older_than if older_than is not None else timedelta(seconds=settings.VOUCH_STUCK_AFTER_SECONDS))
    swept = testimonials_sweep(cutoff=cutoff, now=now)
    swept["media"] = media_sweep(cutoff=cutoff, now=now)
    # A widget publish asked for while the broker was down (or whose worker died) happens now.
    swept["widgets"] = len(widgets_republish_stale())
    # Reading a brand's testimonials again for topics, stopped by a lost message, resumes.
    swept["topics"] = topics_reread_sweep(cutoff=cutoff)
    swept["lifecycle"] = lifecycle_sweep(older_than=older_than)
    return swept
