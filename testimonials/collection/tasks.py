"""Collection's periodic work: abandoned resumable uploads are swept on beat."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from testimonials.collection.uploads import upload_sessions_clean


@shared_task
def upload_sessions_clean_task() -> int:
    """Delete resumable uploads never submitted (so never consented to) after VOUCH_UPLOAD_SESSION_MAX_AGE."""
    return upload_sessions_clean(older_than_seconds=settings.VOUCH_UPLOAD_SESSION_MAX_AGE)
