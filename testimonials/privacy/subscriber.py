"""Privacy follows the lifecycle: an erased testimonial's files are deleted, however long storage takes.

The erasure's entry names the server-chosen files (originals and renditions). Deleting them is
idempotent, so a failure (storage down, a full disk) raises, the entry comes back with backoff,
and the files already gone are simply gone again.
"""

from __future__ import annotations

from testimonials.lifecycle.models import EventType, OutboxEntry
from testimonials.lifecycle.subscribers import subscribe
from testimonials.privacy.services import files_delete


def privacy_follows_lifecycle(entries: list[OutboxEntry]) -> None:
    for entry in entries:
        files = entry.data.get("files") or {}
        files_delete(private=list(files.get("private") or []), public=list(files.get("public") or []))


subscribe("privacy", events=[EventType.ERASE], handler=privacy_follows_lifecycle)
