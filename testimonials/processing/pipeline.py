"""The automatic pipeline: a received testimonial gets sentiment, flags and a decision.

Idempotent by construction. A worker claims a row with a conditional UPDATE that also bumps
`attempts`; that attempt number fences every later write, so a late or duplicate run changes
nothing, and a person's decision made meanwhile always wins.

Order of work, chosen so that a crash anywhere leaves nothing half-done that a retry would repeat:
claim (commit) -> analyse (pure, no writes) -> replace this row's fingerprints (one transaction)
-> store the analysis and the fenced decision with its event (one transaction).

Batches: a task claims its own row and up to VOUCH_PROCESS_BATCH - 1 other waiting rows in one
transaction (SKIP LOCKED on PostgreSQL, so concurrent drains take disjoint rows), analyses each,
then writes every row's fingerprints, fenced decision and event in one transaction. Anything
unusual in that write (a row some newer run owns, a database error) rolls the whole write back
and the rows are written again one by one, each in its own transaction, exactly as a single row
would be: one poison row fails alone, its attempt counted, and is retried later or marked failed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from testimonials import queue
from testimonials.models import ContentFingerprint, MediaAsset, ModerationEvent, Testimonial
from testimonials.moderation import rules, sentiment
from testimonials.services.events import event_record
from testimonials.widgets.services import widgets_republish_stale, widgets_request_publish

log = logging.getLogger(__name__)
State = Testimonial.State

PROCESSING_FIELDS = (
    "id", "brand_id", "form_id", "text", "rating", "flags", "last_error", "brand__auto_approve", "brand__blocklist",
    "form__text_min_length", "form__text_max_length",
)  # fmt: skip
# Near-duplicate candidates compared exactly, most shared LSH bands first.
DUPLICATE_CANDIDATES = 8
# Decisions that change what a brand's widgets show (approved rows; pending ones in the rating summary).
PUBLISHING_STATES = (State.APPROVED, State.PENDING_REVIEW)


@dataclass(frozen=True)
class ProcessOutcome:
    status: str  # "decided", "skipped" (nothing to do), "superseded" (a person or a newer run decided first)
    state: str = ""


@dataclass(frozen=True)
class Analysis:
    mood: sentiment.SentimentResult
    flags: list[rules.Flag]
    bands: list[int]
    language: str
    public_text: str


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
        _skip_wal_flush_wait(cursor)
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


def _skip_wal_flush_wait(cursor) -> None:
    """Let this transaction commit without waiting for PostgreSQL to flush its WAL to disk.

    Safe for the pipeline's own writes only: they can all be recomputed. If PostgreSQL crashed
    before the flush, the lost claim or decision leaves the row received or processing, and the
    sweeper runs it again (the WAL is ordered: a decision is never kept without its claim). A
    customer's submission, by contrast, always waits for the flush. On this machine a flush costs
    5-15 ms, far more than the work itself.
    """
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


# A duplicate candidate's id -> (LSH bands shared, its brand, its text).
Candidates = dict[int, tuple[int, int, str]]


@dataclass(frozen=True)
class Peer:
    """An earlier row of the same batch: its fingerprints are not in the table yet."""

    testimonial_id: int
    brand_id: int
    text: str
    bands: list[int]


def testimonial_analyse(
    *,
    item: Testimonial,
    peers: list[Peer] | tuple = (),
    bands: list[int] | None = None,
    stored: Candidates | None = None,
) -> Analysis:
    """Everything the pipeline concludes about a testimonial's text. Reads only; writes nothing.

    A batch passes the bands it computed and the stored candidates it looked up for all its rows
    at once (`duplicate_candidates`); alone, the row looks its own up.
    """
    mood = sentiment.analyse(item.text)
    form = item.form
    flags = rules.check(
        text=item.text,
        rating=item.rating,
        sentiment=mood,
        blocklist=[str(word) for word in (item.brand.blocklist or [])],
        min_length=form.text_min_length if form and item.text else 0,
        max_length=form.text_max_length if form else 0,
    )
    # Flags set before the pipeline (at submit time: "captcha_unavailable") are kept and count.
    earlier = [
        rules.Flag.from_dict(f) for f in (item.flags or []) if isinstance(f, dict) and f.get("code") not in rules.CODES
    ]
    flags = earlier + flags
    bands = rules.fingerprint(item.text) if bands is None else bands
    duplicate = testimonial_duplicate_flag(item=item, bands=bands, peers=peers, stored=stored)
    if duplicate:
        flags.append(duplicate)
    return Analysis(
        mood=mood,
        flags=flags,
        bands=bands,
        language=rules.detect_language(item.text),
        public_text=rules.redact(item.text),
    )


def duplicate_candidates(bands_of: dict[int, list[int]]) -> dict[int, Candidates]:
    """For each testimonial id: the stored testimonials sharing most LSH bands with its bands, in any
    brand (at most DUPLICATE_CANDIDATES, most shared bands first), in one query for a whole batch."""
    wanted = sorted({(item_id, band) for item_id, bands in bands_of.items() for band in bands})
    found: dict[int, Candidates] = {item_id: {} for item_id in bands_of}
    if not wanted:
        return found
    # Raw SQL: this runs for every testimonial, and the ORM's query building cost more than the query.
    fingerprint_table, testimonial_table = ContentFingerprint._meta.db_table, Testimonial._meta.db_table
    if connection.vendor == "postgresql":
        # Arrays, not a placeholder per value: psycopg parses a long query's placeholders in Python.
        source = "SELECT * FROM unnest(%s::bigint[], %s::bigint[])"
        params = [list(column) for column in zip(*wanted, strict=True)]
    else:
        source = f"VALUES {', '.join(['(%s, %s)'] * len(wanted))}"
        params = [value for pair in wanted for value in pair]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH wanted (item_id, band) AS ({source}), "  # noqa: S608
            "shared AS (SELECT w.item_id, f.testimonial_id, f.brand_id, COUNT(*) AS shared "
            f"FROM wanted w JOIN {fingerprint_table} f ON f.band = w.band "
            f"JOIN {testimonial_table} t ON t.id = f.testimonial_id WHERE f.testimonial_id <> w.item_id "
            "GROUP BY w.item_id, f.testimonial_id, f.brand_id), "
            "ranked AS (SELECT item_id, testimonial_id, brand_id, shared, ROW_NUMBER() OVER "
            "(PARTITION BY item_id ORDER BY shared DESC, testimonial_id) AS n FROM shared) "
            f"SELECT r.item_id, r.testimonial_id, r.brand_id, t.text, r.shared FROM ranked r "
            f"JOIN {testimonial_table} t ON t.id = r.testimonial_id WHERE r.n <= %s",
            [*params, DUPLICATE_CANDIDATES],
        )
        for item_id, candidate_id, brand_id, text, shared in cursor.fetchall():
            found[item_id][candidate_id] = (shared, brand_id, text)
    return found


def testimonial_duplicate_flag(
    *, item: Testimonial, bands: list[int], peers: list[Peer] | tuple = (), stored: Candidates | None = None
) -> rules.Flag | None:
    """The flag for the most similar earlier testimonial sharing an LSH band, in any brand.

    `peers` are earlier rows of the same batch, compared as if their fingerprints were stored;
    `stored`, the stored candidates if a batch looked them up already.
    """
    if not bands:
        return None
    found = dict(stored) if stored is not None else duplicate_candidates({item.id: bands})[item.id]
    if peers:
        wanted = set(bands)
        for peer in peers:
            shared = sum(1 for band in peer.bands if band in wanted)
            if shared and peer.testimonial_id != item.id and shared > found.get(peer.testimonial_id, (0,))[0]:
                found[peer.testimonial_id] = (shared, peer.brand_id, peer.text)
    if not found:
        return None
    ranked = sorted(found.items(), key=lambda entry: (-entry[1][0], entry[0]))[:DUPLICATE_CANDIDATES]
    best: tuple[float, bool, int] | None = None
    for candidate_id, (_shared, brand_id, text) in ranked:
        score = rules.similarity(item.text, text)
        key = (score, brand_id == item.brand_id, candidate_id)
        if best is None or key[:2] > best[:2]:
            best = key
    flag = rules.duplicate_flag(similarity=best[0], same_brand=best[1])
    if flag and best[1]:
        # Within the brand the admin may open the other one; another brand's ids are never shown.
        flag = dataclasses.replace(flag, evidence=(*flag.evidence, f"testimonial #{best[2]}"))
    return flag


@dataclass
class Work:
    """One claimed row on its way through a batch."""

    item: Testimonial
    attempt: int
    analysis: Analysis | None = None
    decision: rules.Decision | None = None
    stored: dict = dataclasses.field(default_factory=dict)


class _Unusual(Exception):
    """A batch write met a row some newer run owns: write the rows one by one instead."""


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
    attempts = dict(claimed)
    # Only what the analysis reads: loading all ~80 columns of three tables cost ~2 ms of CPU per row.
    items = Testimonial.objects.select_related("brand", "form").only(*PROCESSING_FIELDS).in_bulk(list(attempts))
    outcomes: dict[int, ProcessOutcome] = {}
    todo: list[tuple[Testimonial, int]] = []
    bands_of: dict[int, list[int]] = {}
    for row_id, attempt in claimed:
        item = items.get(row_id)
        if item is None:  # deleted since the claim
            continue
        if attempt > settings.VOUCH_MAX_ATTEMPTS:
            testimonial_mark_failed(
                testimonial_id=item.id, attempt=attempt, error=item.last_error or "Too many attempts."
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
    # One query for the whole batch; a row alone looks its own up.
    candidates = duplicate_candidates(bands_of) if len(todo) > 1 else {}
    work: list[Work] = []
    peers: list[Peer] = []
    for item, attempt in todo:
        row_id = item.id
        try:
            analysis = testimonial_analyse(
                item=item, peers=peers, bands=bands_of[row_id], stored=candidates.get(row_id)
            )
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # noqa: BLE001 - one row's failure must not fail the batch
            outcomes[row_id] = _row_failed(row_id, exc)
            continue
        decision = rules.decide(analysis.flags, auto_approve=item.brand.auto_approve)
        stored = {
            "sentiment_score": analysis.mood.score,
            "sentiment_label": analysis.mood.label,
            "highlight": rules.redact(analysis.mood.highlight)[:300],
            "flags": [f.as_dict() for f in analysis.flags],
            "public_text": analysis.public_text,
            "language": analysis.language,
            "last_error": "",
        }
        work.append(Work(item=item, attempt=attempt, analysis=analysis, decision=decision, stored=stored))
        if analysis.bands:
            peers.append(Peer(item.id, item.brand_id, item.text, analysis.bands))
    if not work:
        return outcomes
    written = _store_batch(work) if len(work) > 1 else None
    if written is None:
        # One by one, each in its own transaction: one failing row cannot take the others down.
        publish: set[int] = set()
        written = {}
        for entry in work:
            try:
                written[entry.item.id] = _store_one(entry, publish=publish)
            except SoftTimeLimitExceeded:
                raise
            except Exception as exc:  # noqa: BLE001 - one row's failure must not fail the batch
                written[entry.item.id] = _row_failed(entry.item.id, exc)
    outcomes.update(written)
    return outcomes


def _row_failed(testimonial_id: int, exc: BaseException) -> ProcessOutcome:
    """Count a failed attempt of one row; if it may try again, enqueue it after a backoff."""
    log.error("Processing testimonial %s failed", testimonial_id, exc_info=exc)
    state = testimonial_processing_failed(testimonial_id=testimonial_id, error=f"{type(exc).__name__}: {exc}")
    if state == State.RECEIVED:
        attempts = Testimonial.objects.filter(id=testimonial_id).values_list("attempts", flat=True).first() or 1
        # A drain may pick the row up sooner, which the attempt counter bounds all the same.
        queue.enqueue_processing(testimonial_id, countdown=queue.backoff(attempts - 1))
    return ProcessOutcome("failed", state)


def _store_one(entry: Work, *, publish: set[int]) -> ProcessOutcome:
    """Write one row's fingerprints, analysis and fenced decision in its own transaction."""
    item, attempt, analysis, decision = entry.item, entry.attempt, entry.analysis, entry.decision
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            _skip_wal_flush_wait(cursor)
        # Fingerprints first: until the decision below, this transaction holds no lock on the
        # testimonial's row, so a person deciding meanwhile is never kept waiting by it.
        fingerprints_replace(item=item, bands=analysis.bands, fresh=attempt == 1)
        # The decision is fenced by the attempt (no newer run) and the text (not edited since read).
        mine = Testimonial.objects.filter(id=item.id, attempts=attempt, text=item.text)
        won = mine.filter(state=State.PROCESSING).update(
            **entry.stored,
            state=decision.state,
            state_changed_at=now,
            decided_at=Coalesce(F("decided_at"), Value(now)),
        )
        if not won:
            # A person decided first: keep the analysis for the admin, leave the state alone.
            # If a newer run owns the row instead, it writes its own: drop these fingerprints.
            if not mine.update(**entry.stored):
                transaction.set_rollback(True)
            return ProcessOutcome("superseded")
        event_record(
            testimonial=item,
            action="auto_decision",
            from_state=State.PROCESSING,
            to_state=decision.state,
            reasons=decision.reasons,
        )
        if decision.state in PUBLISHING_STATES and item.brand_id not in publish:
            publish.add(item.brand_id)
            widgets_request_publish(brand_id=item.brand_id)
    return ProcessOutcome("decided", decision.state)


def _store_batch(work: list[Work]) -> dict[int, ProcessOutcome] | None:
    """Write every row of a batch in one transaction; None (all rolled back) if any row is unusual.

    Same order and fences as `_store_one`: fingerprints first (one DELETE for reruns, one INSERT),
    then one conditional UPDATE per row fenced by attempt, text and state, then every event in one
    INSERT and one widget-publish request per brand.
    """
    table = Testimonial._meta.db_table
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    assignments = (
        "sentiment_score = %s, sentiment_label = %s, highlight = %s, flags = %s" + cast + ", public_text = %s, "
        "language = %s, last_error = %s"
    )
    keep_sql = f"UPDATE {table} SET {assignments} WHERE id = %s AND attempts = %s AND text = %s"  # noqa: S608
    now = timezone.now()
    outcomes: dict[int, ProcessOutcome] = {}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _skip_wal_flush_wait(cursor)
            fingerprints_replace_many(work)
            values = {entry.item.id: _stored_values(entry.stored) for entry in work}
            won = _decide_many(cursor, work, values, now)
            events = []
            publish: list[int] = []
            for entry in work:
                item = entry.item
                if item.id in won:
                    outcomes[item.id] = ProcessOutcome("decided", entry.decision.state)
                    events.append(
                        ModerationEvent(
                            testimonial_id=item.id,
                            actor_kind=ModerationEvent.Actor.SYSTEM,
                            action="auto_decision",
                            from_state=State.PROCESSING,
                            to_state=entry.decision.state,
                            reasons=list(entry.decision.reasons),
                            created_at=now,
                        )
                    )
                    if entry.decision.state in PUBLISHING_STATES and item.brand_id not in publish:
                        publish.append(item.brand_id)
                    continue
                # A person decided first: keep the analysis for the admin, leave the state alone.
                cursor.execute(keep_sql, [*values[item.id], item.id, entry.attempt, item.text])
                if cursor.rowcount != 1:
                    raise _Unusual(item.id)  # a newer run owns it: its fingerprints must not be ours
                outcomes[item.id] = ProcessOutcome("superseded")
            ModerationEvent.objects.bulk_create(events)
            for brand_id in publish:
                widgets_request_publish(brand_id=brand_id)
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:  # noqa: BLE001 - _Unusual, or a row the database refuses: write them one by one
        log.info("Batch write of %d rows rolled back (%s); writing them one by one.", len(work), exc)
        return None
    return outcomes


def _stored_values(stored: dict) -> list:
    """The analysis columns in the order `_store_batch` and `_decide_many` write them."""
    return [
        stored["sentiment_score"],
        stored["sentiment_label"],
        stored["highlight"],
        json.dumps(stored["flags"]),
        stored["public_text"],
        stored["language"],
        stored["last_error"],
    ]


def _decide_many(cursor, work: list[Work], values: dict[int, list], now) -> set[int]:
    """Store analysis and decision of every row still ours; the ids it won.

    Fenced like `_store_one`: by attempt (no newer run), text (not edited since read) and state
    (no person decided meanwhile). One UPDATE ... FROM (VALUES ...) on PostgreSQL, one per row on SQLite.
    """
    table = Testimonial._meta.db_table
    if connection.vendor == "postgresql":
        types = ("bigint", "integer", "text", "float8", "text", "text", "text", "text", "text", "text", "text")
        columns = [
            (entry.item.id, entry.attempt, entry.item.text, *values[entry.item.id], entry.decision.state)
            for entry in work
        ]
        cursor.execute(
            f"UPDATE {table} AS t SET sentiment_score = v.score, sentiment_label = v.label, "  # noqa: S608
            "highlight = v.highlight, flags = v.flags::jsonb, public_text = v.public_text, language = v.language, "
            "last_error = v.last_error, state = v.state, state_changed_at = %s, "
            "decided_at = COALESCE(t.decided_at, %s) "
            f"FROM unnest({', '.join(f'%s::{name}[]' for name in types)}) "
            "AS v (id, attempts, text, score, label, highlight, flags, public_text, language, last_error, state) "
            "WHERE t.id = v.id AND t.attempts = v.attempts AND t.text = v.text AND t.state = %s RETURNING t.id",
            [now, now, *(list(column) for column in zip(*columns, strict=True)), State.PROCESSING],
        )
        return {row[0] for row in cursor.fetchall()}
    won = set()
    for entry in work:
        cursor.execute(
            f"UPDATE {table} SET sentiment_score = %s, sentiment_label = %s, highlight = %s, flags = %s, "  # noqa: S608
            "public_text = %s, language = %s, last_error = %s, state = %s, state_changed_at = %s, "
            "decided_at = COALESCE(decided_at, %s) WHERE id = %s AND attempts = %s AND text = %s AND state = %s",
            [
                *values[entry.item.id],
                entry.decision.state,
                now,
                now,
                entry.item.id,
                entry.attempt,
                entry.item.text,
                State.PROCESSING,
            ],
        )
        if cursor.rowcount == 1:
            won.add(entry.item.id)
    return won


@transaction.atomic(savepoint=False)
def fingerprints_replace_many(work: list[Work]) -> None:
    """Every row's LSH bands, replaced whole, in two statements: a rerun never doubles them."""
    table = ContentFingerprint._meta.db_table
    reruns = [entry.item.id for entry in work if entry.attempt != 1]
    rows = [(entry.item.id, entry.item.brand_id, band) for entry in work for band in entry.analysis.bands]
    with connection.cursor() as cursor:
        if reruns:
            cursor.execute(
                f"DELETE FROM {table} WHERE testimonial_id IN ({', '.join(['%s'] * len(reruns))})",  # noqa: S608
                reruns,
            )  # a few ids at most: reruns are rare
        if rows and connection.vendor == "postgresql":
            # Arrays, not thousands of placeholders: psycopg parses a long query's placeholders in Python.
            cursor.execute(
                f"INSERT INTO {table} (testimonial_id, brand_id, band) "  # noqa: S608 - no user input
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[])",
                [list(column) for column in zip(*rows, strict=True)],
            )
        elif rows:
            cursor.execute(
                f"INSERT INTO {table} (testimonial_id, brand_id, band) "  # noqa: S608 - no user input
                f"VALUES {', '.join(['(%s, %s, %s)'] * len(rows))}",
                [value for row in rows for value in row],
            )


@transaction.atomic(savepoint=False)
def fingerprints_replace(*, item: Testimonial, bands: list[int], fresh: bool = False) -> None:
    """This testimonial's LSH bands, replaced whole: a rerun never doubles them.

    `fresh` (a first attempt) skips the delete: bands are only ever committed with a decision.
    """
    if not fresh:
        ContentFingerprint.objects.filter(testimonial_id=item.id).delete()
    if bands:
        table = ContentFingerprint._meta.db_table
        rows = ", ".join(["(%s, %s, %s)"] * len(bands))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (testimonial_id, brand_id, band) VALUES {rows}",  # noqa: S608 - no user input
                [value for band in bands for value in (item.id, item.brand_id, band)],
            )


def testimonial_processing_failed(*, testimonial_id: int, error: str) -> str:
    """Record a failed attempt: back to received for a retry, or failed once attempts run out."""
    item = Testimonial.objects.get(id=testimonial_id)
    give_up = item.attempts >= settings.VOUCH_MAX_ATTEMPTS
    target = State.FAILED if give_up else State.RECEIVED
    changed = Testimonial.objects.filter(id=testimonial_id, state=State.PROCESSING, attempts=item.attempts).update(
        state=target, state_changed_at=timezone.now(), last_error=error[:2000]
    )
    if changed and give_up:
        event_record(
            testimonial=item,
            action="failed",
            from_state=State.PROCESSING,
            to_state=State.FAILED,
            reasons=[f"Processing failed {item.attempts} times: {error[:300]}"],
        )
    return target if changed else item.state


def testimonial_mark_failed(*, testimonial_id: int, attempt: int, error: str) -> None:
    """Give up on a row whose attempts ran out (a poison message that keeps killing its worker)."""
    item = Testimonial.objects.get(id=testimonial_id)
    changed = Testimonial.objects.filter(id=testimonial_id, state=State.PROCESSING, attempts=attempt).update(
        state=State.FAILED, state_changed_at=timezone.now(), last_error=error[:2000]
    )
    if changed:
        event_record(
            testimonial=item,
            action="failed",
            from_state=State.PROCESSING,
            to_state=State.FAILED,
            reasons=[f"Gave up after {attempt - 1} attempts: {error[:300]}"],
        )


def sweep_stuck(*, older_than: timedelta | None = None) -> dict[str, int]:
    """Re-enqueue accepted work whose message was lost (broker down, worker killed), widget publishes too.

    Rows left in processing past the lease go back to received (their attempt stays counted, so
    the bounded retry applies); rows waiting in received past the lease are enqueued again and
    their clock reset, so a long backlog is not enqueued twice per sweep. Safe to run anytime.
    """
    now = timezone.now()
    cutoff = now - (older_than if older_than is not None else timedelta(seconds=settings.VOUCH_STUCK_AFTER_SECONDS))
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
        queue.enqueue_processing(testimonial_id)

    stuck_media = MediaAsset.objects.filter(
        status__in=[MediaAsset.Status.PENDING, MediaAsset.Status.PROCESSING], status_changed_at__lt=cutoff
    )
    media = list(stuck_media.values_list("id", flat=True)[:200])
    MediaAsset.objects.filter(id__in=media, status=MediaAsset.Status.PROCESSING).update(
        status=MediaAsset.Status.PENDING
    )
    MediaAsset.objects.filter(id__in=media).update(status_changed_at=now)
    for asset_id in media:
        queue.enqueue_media(asset_id)
    # A widget publish asked for while the broker was down (or whose worker died) happens now.
    widgets = widgets_republish_stale()
    return {"testimonials": len(waiting), "released": released, "media": len(media), "widgets": len(widgets)}
