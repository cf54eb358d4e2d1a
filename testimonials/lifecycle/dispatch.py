"""Handing recorded changes to every subscriber: right after commit through a worker, or later by the sweeper.

Delivery is at least once per subscriber and effectively once: a subscriber's receipt is inserted
(INSERT ... ON CONFLICT DO NOTHING RETURNING) in the same transaction as its work, so a second
hand-off of the same entry finds the receipt and skips it, and a failed handler leaves no receipt.
A subscriber that fails does not hold up the others; its entries come back with backoff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from testimonials import queue
from testimonials.lifecycle.models import OutboxEntry, OutboxReceipt
from testimonials.lifecycle.subscribers import Subscriber, subscribers

log = logging.getLogger(__name__)

SWEEP_BATCH = 500


@dataclass
class DispatchResult:
    dispatched: list[int] = field(default_factory=list)  # handed to every subscriber that wants them
    failed: dict[int, str] = field(default_factory=dict)  # entry id -> why (a subscriber raised)


def lifecycle_dispatch(*, entry_ids: list[int]) -> DispatchResult:
    """Hand each of these entries to every subscriber that wants it and has not handled it yet.

    Safe to run any number of times, concurrently too (the receipts decide who handles what).
    """
    entries = list(OutboxEntry.objects.filter(id__in=entry_ids, dispatched_at__isnull=True).order_by("id"))
    result = DispatchResult()
    if not entries:
        return result
    for subscriber in subscribers():
        wanted = [entry for entry in entries if entry.event in subscriber.events]
        if not wanted:
            continue
        try:
            _hand_to(subscriber, wanted)
        except Exception as exc:  # one subscriber's failure must not stop the others
            log.exception("Lifecycle subscriber %s failed on entries %s", subscriber.name, [e.id for e in wanted])
            for entry in wanted:
                result.failed.setdefault(entry.id, f"{subscriber.name}: {type(exc).__name__}: {exc}"[:2000])
    now = timezone.now()
    result.dispatched = [entry.id for entry in entries if entry.id not in result.failed]
    if result.dispatched:
        OutboxEntry.objects.filter(id__in=result.dispatched).update(dispatched_at=now, retry_at=None)
    for entry_id, error in result.failed.items():
        OutboxEntry.objects.filter(id=entry_id).update(last_error=error)
    return result


def _hand_to(subscriber: Subscriber, entries: list[OutboxEntry]) -> None:
    """One transaction: claim the entries for this subscriber with receipts, then let it work on the claimed ones."""
    with transaction.atomic():
        claimed = _claim(subscriber.name, [entry.id for entry in entries])
        mine = [entry for entry in entries if entry.id in claimed]
        if mine:
            subscriber.handle(mine)


def _claim(subscriber: str, entry_ids: list[int]) -> set[int]:
    """Insert this subscriber's receipts; the entry ids whose receipt is new (PostgreSQL and SQLite >= 3.35).

    A concurrent hand-off holding the same receipt makes PostgreSQL wait for it: if it commits, the
    entry is not ours; if it rolls back (its handler failed), ours goes in and we handle it.
    """
    table = OutboxReceipt._meta.db_table
    now = timezone.now()
    values = ", ".join(["(%s, %s, %s)"] * len(entry_ids))
    params = [value for entry_id in entry_ids for value in (entry_id, subscriber, now)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (entry_id, subscriber, handled_at) VALUES {values} "  # noqa: S608 - no user input
            "ON CONFLICT (entry_id, subscriber) DO NOTHING RETURNING entry_id",
            params,
        )
        return {row[0] for row in cursor.fetchall()}


def lifecycle_sweep(*, older_than: timedelta | None = None) -> int:
    """Dispatch entries whose hand-off was lost (broker down, worker killed) or whose subscriber failed.

    Each pick first pushes the entry's next try back (exponential, capped at an hour), so an entry
    that keeps failing, or keeps killing the process, is tried less and less often but never dropped.
    Returns how many entries were dispatched.
    """
    now = timezone.now()
    cutoff = now - (older_than if older_than is not None else timedelta(seconds=settings.VOUCH_STUCK_AFTER_SECONDS))
    due = OutboxEntry.objects.filter(dispatched_at__isnull=True, created_at__lt=cutoff).filter(
        Q(retry_at__isnull=True) | Q(retry_at__lte=now)
    )
    picked = list(due.order_by("id").values_list("id", "attempts")[:SWEEP_BATCH])
    if not picked:
        return 0
    by_attempts: dict[int, list[int]] = {}
    for entry_id, attempts in picked:
        by_attempts.setdefault(attempts, []).append(entry_id)
    for attempts, ids in by_attempts.items():
        OutboxEntry.objects.filter(id__in=ids).update(
            attempts=F("attempts") + 1, retry_at=now + timedelta(seconds=queue.DISPATCH_RETRY.delay(attempts))
        )
    result = lifecycle_dispatch(entry_ids=[entry_id for entry_id, _ in picked])
    return len(result.dispatched)


def lifecycle_purge(*, older_than: timedelta | None = None) -> int:
    """Delete dispatched entries (and their receipts) past the retention; the audit trail stays."""
    days = settings.VOUCH_OUTBOX_RETENTION_DAYS
    cutoff = timezone.now() - (older_than if older_than is not None else timedelta(days=days))
    deleted, _ = OutboxEntry.objects.filter(dispatched_at__lt=cutoff).delete()
    return deleted
