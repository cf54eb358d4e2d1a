"""The remembered public forms follow the lifecycle: a brand's or a form's settings changed, so this
process stops serving its copies as fresh (they stay the fallback while the database is down).

Handlers run where the hand-off runs (a worker, or the process itself in tests and eager setups): other
web processes see the change once their copy is VOUCH_PUBLIC_FORM_CACHE_SECONDS old.
"""

from __future__ import annotations

from testimonials.lifecycle.models import EventType, OutboxEntry
from testimonials.lifecycle.subscribers import subscribe
from testimonials.spool import services


def public_forms_follow_lifecycle(entries: list[OutboxEntry]) -> None:
    services.forms_forget(brand_ids={entry.brand_id for entry in entries})


subscribe("public_forms", events=[EventType.BRAND_CHANGE, EventType.FORM_CHANGE], handler=public_forms_follow_lifecycle)
