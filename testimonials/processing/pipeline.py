"""The automatic pipeline: a received testimonial gets sentiment, flags and a decision.

Idempotent by construction. A worker claims a row with a conditional UPDATE that also bumps
`attempts`; that attempt number fences every later write, so a late or duplicate run changes
nothing, and a person's decision made meanwhile always wins.

Order of work, chosen so that a crash anywhere leaves nothing half-done that a retry would repeat:
claim (commit) -> analyse (analysis.py: pure, no writes) -> write fingerprints, analysis, the
fenced decision and its lifecycle event (writes.py: one transaction).

Batches: a task claims its own row and up to VOUCH_PROCESS_BATCH - 1 other waiting rows in one
transaction (SKIP LOCKED on PostgreSQL, so concurrent drains take disjoint rows), analyses each,
then writes every row in one transaction. Anything unusual in that write (a row some newer run
owns, a database error) rolls the whole write back and the rows are written again one by one,
each in its own transaction, exactly as a single row would be: one poison row fails alone, its
attempt counted, and is retried later or marked failed.

What the decision then changes (widgets republished, webhooks, ...) is not done here: each
decision is a lifecycle event, and its subscribers follow (testimonials/lifecycle/).
"""

from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from testimonials import outages, queue
from testimonials.insights.selectors import topic_vocabularies_for_brands
from testimonials.lifecycle.events import record
from testimonials.models import EventType, Testimonial
from testimonials.moderation import rules
from testimonials.processing import writes
from testimonials.processing.analysis import Peer, duplicate_candidates, testimonial_analyse
from testimonials.processing.writes import ProcessOutcome, Work

log = logging.getLogger(__name__)
State = Testimonial.State

PROCESSING_FIELDS = (
    "id", "public_id", "brand_id", "form_id", "text", "rating", "flags", "last_error", "brand__auto_approve",
    "brand__blocklist", "form__text_min_length", "form__text_max_length",
)  # fmt: skip


def testimonials_claim(*, testimonial_id: int | None, limit: int) -> list[tuple[int, int]]:
    """Claim `testimonial_id` (if still received) and up to `limit` waiting rows in all, oldest first.

    Returns (id, attempt) pairs, the given row first. One transaction, two conditional UPDATEs that
    bump `attempts`. On PostgreSQL the others are taken with SKIP LOCKED, so drains running at the
    same time take disjoint rows without waiting for each other; SQLite serialises writers, and the
    outer `state = received` condition keeps its path just as exclusive.
    """
    table = Testimonial._meta.db_table
    now = timezone.now()
    claim = f"UPDATE {table} SET state = %s, state_changed_at = %s, attempts = attempts + 1 "  # noqa: S608 - no user input
    claimed: list[tuple[int, int]] = []
    with transaction.atomic(), connection.cursor() as cursor:
        writes.skip_wal_flush_wait(cursor)
        # UPDATE ... RETURNING (PostgreSQL and SQLite >= 3.35): one statement claims and counts.
        if testimonial_id is not None:
            cursor.execute(
                claim + "WHERE id = %s AND state = %s RETURNING id, attempts",
                [State.PROCESSING, now, testimonial_id, State.RECEIVED],
            )
            claimed.extend(cursor.fetchall())
        more = limit - len(claimed)
        if more > 0 and connection.vendor == "postgresql":
            # Oldest waiting first, from the (state, state_changed_at) index. MATERIALIZED: the pick
            # runs exactly once; as a plain IN (subquery) the planner may rescan it for every outer
            # row (a nested loop on fresh statistics), and with SKIP LOCKED that claims more rows.
            cursor.execute(
                f"WITH picked AS MATERIALIZED (SELECT id FROM {table} WHERE state = %s "  # noqa: S608 - no user input
                "ORDER BY state_changed_at, id LIMIT %s FOR UPDATE SKIP LOCKED) "
                + claim.replace(f"UPDATE {table} SET", f"UPDATE {table} AS t SET")
                + "FROM picked WHERE t.id = picked.id AND t.state = %s RETURNING t.id, t.attempts",
                [State.RECEIVED, more, State.PROCESSING, now, State.RECEIVED],
            )
            claimed.extend(cursor.fetchall())
        elif more > 0:
            # SQLite: one writer at a time, so the outer condition alone keeps drains disjoint.
            cursor.execute(
                claim + f"WHERE id IN (SELECT id FROM {table} WHERE state = %s "  # noqa: S608 - no user input
                "ORDER BY state_changed_at, id LIMIT %s) AND state = %s RETURNING id, attempts",
                [State.PROCESSING, now, State.RECEIVED, more, State.RECEIVED],
            )
            claimed.extend(cursor.fetchall())
    return [(row[0], row[1]) for row in claimed]


def testimonial_process(*, testimonial_id: int) -> ProcessOutcome:
    """Analyse and decide one testimonial. Safe to call any number of times, concurrently too."""
    outcomes = testimonials_process(testimonial_id=testimonial_id, limit=1)
    return outcomes.get(testimonial_id, ProcessOutcome("skipped"))


def testimonials_process(*, testimonial_id: int | None = None, limit: int | None = None) -> dict[int, ProcessOutcome]:
    """Claim `testimonial_id` and other waiting rows (up to `limit` in all), analyse and decide them.

    Safe to call any number of times, concurrently too. Returns an outcome per claimed row; a row
    that failed is "failed" with its new state (received: retried later; failed: attempts ran out).
    """
    limit = limit if limit is not None else settings.VOUCH_PROCESS_BATCH
    claimed = testimonials_claim(testimonial_id=testimonial_id, limit=limit)
    if not claimed:
        return {}
    outcomes: dict[int, ProcessOutcome] = {}
    todo, bands_of = _load_claimed(claimed, outcomes)
    work = _analyse_all(todo, bands_of, outcomes)
    if work:
        outcomes.update(_write(work))
    return outcomes


def _load_claimed(
    claimed: list[tuple[int, int]], outcomes: dict[int, ProcessOutcome]
) -> tuple[list[tuple[Testimonial, int]], dict[int, list[int]]]:
    """The claimed rows still worth analysing, with each one's LSH bands. Gives up on rows out of attempts."""
    # Only what the analysis reads: loading all ~80 columns of three tables cost ~2 ms of CPU per row.
    items = (
        Testimonial.objects.select_related("brand", "form").only(*PROCESSING_FIELDS).in_bulk([i for i, _ in claimed])
    )
    todo: list[tuple[Testimonial, int]] = []
    bands_of: dict[int, list[int]] = {}
    for row_id, attempt in claimed:
        item = items.get(row_id)
        if item is None:  # deleted since the claim
            continue
        if attempt > settings.VOUCH_MAX_ATTEMPTS:
            testimonial_mark_failed(
                testimonial_id=row_id, attempt=attempt, error=item.last_error or "Too many attempts."
            )
            outcomes[row_id] = ProcessOutcome("decided", State.FAILED)
            continue
        try:
            bands_of[row_id] = rules.fingerprint(item.text)
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # noqa: BLE001 - one row's failure must not fail the batch
            outcomes[row_id] = _row_failed(row_id, exc)
            continue
        todo.append((item, attempt))
    return todo, bands_of


def _analyse_all(
    todo: list[tuple[Testimonial, int]], bands_of: dict[int, list[int]], outcomes: dict[int, ProcessOutcome]
) -> list[Work]:
    """Analyse and decide each row (pure); earlier rows of the batch count as near-duplicate peers."""
    # One query for the whole batch; a row alone looks its own up.
    candidates = duplicate_candidates(bands_of) if len(todo) > 1 else {}
    vocabularies = topic_vocabularies_for_brands({item.brand_id for item, _ in todo})
    work: list[Work] = []
    peers: list[Peer] = []
    for item, attempt in todo:
        try:
            analysis = testimonial_analyse(
                item=item,
                peers=peers,
                bands=bands_of[item.id],
                stored=candidates.get(item.id),
                vocabulary=vocabularies[item.brand_id],
            )
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # noqa: BLE001 - one row's failure must not fail the batch
            outcomes[item.id] = _row_failed(item.id, exc)
            continue
        decision = rules.decide(analysis.flags, auto_approve=item.brand.auto_approve)
        stored = writes.analysis_columns(analysis)
        work.append(Work(item=item, attempt=attempt, analysis=analysis, decision=decision, stored=stored))
        if analysis.bands:
            peers.append(Peer(item.id, item.brand_id, item.text, analysis.bands))
    return work


def _write(work: list[Work]) -> dict[int, ProcessOutcome]:
    """The batch in one transaction; if anything in it is unusual, row by row, each alone."""
    written = writes.store_batch(work) if len(work) > 1 else None
    if written is not None:
        return written
    written = {}
    for entry in work:
        try:
            written[entry.item.id] = writes.store_one(entry)
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # noqa: BLE001 - one row's failure must not fail the batch
            written[entry.item.id] = _row_failed(entry.item.id, exc)
    return written


def _row_failed(testimonial_id: int, exc: BaseException) -> ProcessOutcome:
    """Count a failed attempt of one row (not if the infrastructure failed); enqueue it again after a backoff."""
    from testimonials.processing.tasks import testimonial_process_task  # tasks import this module

    log.error("Processing testimonial %s failed", testimonial_id, exc_info=exc)
    outage = outages.is_infrastructure_error(exc)
    state = testimonial_processing_failed(
        testimonial_id=testimonial_id, error=f"{type(exc).__name__}: {exc}", infrastructure=outage
    )
    if state == State.RECEIVED:
        attempts = Testimonial.objects.filter(id=testimonial_id).values_list("attempts", flat=True).first() or 1
        policy = queue.INFRASTRUCTURE_RETRY if outage else queue.PROCESSING_RETRY
        # A drain may pick the row up sooner, which the attempt counter bounds all the same.
        queue.send(testimonial_process_task, testimonial_id, countdown=policy.delay(attempts - 1))
    return ProcessOutcome("failed", state)


def testimonial_processing_failed(*, testimonial_id: int, error: str, infrastructure: bool = False) -> str:
    """Record a failed attempt: back to received for a retry, or failed once attempts run out.

    An `infrastructure` failure (the database, broker or disk, not the row: outages.py) gives the
    attempt back: the row waits in received and is never marked failed for it.
    """
    item = Testimonial.objects.get(id=testimonial_id)
    if infrastructure:
        changed = Testimonial.objects.filter(id=testimonial_id, state=State.PROCESSING, attempts=item.attempts).update(
            state=State.RECEIVED,
            state_changed_at=timezone.now(),
            attempts=F("attempts") - 1,
            last_error=f"Interrupted by an outage; it will be retried. {error}"[:2000],
        )
        return State.RECEIVED if changed else item.state
    give_up = item.attempts >= settings.VOUCH_MAX_ATTEMPTS
    target = State.FAILED if give_up else State.RECEIVED
    with transaction.atomic():
        changed = Testimonial.objects.filter(id=testimonial_id, state=State.PROCESSING, attempts=item.attempts).update(
            state=target, state_changed_at=timezone.now(), last_error=error[:2000]
        )
        if changed and give_up:
            record(
                event=EventType.FAILED,
                testimonial=item,
                from_state=State.PROCESSING,
                to_state=State.FAILED,
                reasons=[f"Processing failed {item.attempts} times: {error[:300]}"],
            )
    return target if changed else item.state


def testimonial_mark_failed(*, testimonial_id: int, attempt: int, error: str) -> None:
    """Give up on a row whose attempts ran out (a poison message that keeps killing its worker)."""
    item = Testimonial.objects.get(id=testimonial_id)
    with transaction.atomic():
        changed = Testimonial.objects.filter(id=testimonial_id, state=State.PROCESSING, attempts=attempt).update(
            state=State.FAILED, state_changed_at=timezone.now(), last_error=error[:2000]
        )
        if changed:
            record(
                event=EventType.FAILED,
                testimonial=item,
                from_state=State.PROCESSING,
                to_state=State.FAILED,
                reasons=[f"Gave up after {attempt - 1} attempts: {error[:300]}"],
            )


def testimonials_sweep(*, cutoff, now) -> dict[str, int]:
    """Re-enqueue testimonials whose message was lost (broker down, worker killed).

    Rows left in processing past the lease go back to received (their attempt stays counted, so
    the bounded retry applies); rows waiting in received past the lease are enqueued again and
    their clock reset, so a long backlog is not enqueued twice per sweep. Safe to run anytime.
    """
    from testimonials.processing.tasks import testimonial_process_task  # tasks import this module

    # Keeps the old state_changed_at, so the query below picks these rows up at once.
    released = Testimonial.objects.filter(state=State.PROCESSING, state_changed_at__lt=cutoff).update(
        state=State.RECEIVED, last_error="The worker stopped before finishing; retrying."
    )
    waiting = list(
        Testimonial.objects.filter(state=State.RECEIVED, state_changed_at__lt=cutoff)
        .order_by("state_changed_at")
        .values_list("id", flat=True)[:1000]
    )
    Testimonial.objects.filter(id__in=waiting, state=State.RECEIVED).update(state_changed_at=now)
    for testimonial_id in waiting:
        queue.send(testimonial_process_task, testimonial_id)
    return {"testimonials": len(waiting), "released": released}
