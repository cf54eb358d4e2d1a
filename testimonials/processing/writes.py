"""The pipeline's writes: fingerprints, the analysis columns and the fenced decision with its lifecycle event.

Every write is fenced by the attempt (no newer run owns the row), the text (not edited since it
was read) and, for the decision, the state (no person decided meanwhile). The analysis columns
are declared once, in ANALYSIS_COLUMNS: the one-row ORM update and both SQL dialects of the batch
statements are built from that list.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from testimonials.lifecycle.events import Change, record_many
from testimonials.models import ContentFingerprint, EventType, Testimonial
from testimonials.moderation import rules, topics
from testimonials.processing.analysis import Analysis

log = logging.getLogger(__name__)
# The flags that rules.redact acts on: without them, the text's quotes need no redaction.
PERSONAL_DATA_FLAGS = frozenset({"email", "phone"})
State = Testimonial.State


@dataclass(frozen=True)
class Column:
    """One column the analysis fills: its name and its PostgreSQL type (for unnest arrays and casts)."""

    name: str
    pg_type: str
    json: bool = False  # sent as JSON text, stored as jsonb on PostgreSQL


ANALYSIS_COLUMNS: tuple[Column, ...] = (
    Column("sentiment_score", "float8"),
    Column("sentiment_label", "text"),
    Column("sentiment_reason", "text"),
    Column("topics", "text", json=True),
    Column("highlight", "text"),
    Column("flags", "text", json=True),
    Column("public_text", "text"),
    Column("language", "text"),
    Column("last_error", "text"),
)


def analysis_columns(analysis: Analysis) -> dict:
    """What the analysis writes, by column name (ANALYSIS_COLUMNS, in that order)."""
    # Quotes of the text (highlight, reason, topics) hold personal data only where the text did.
    personal = any(flag.code in PERSONAL_DATA_FLAGS for flag in analysis.flags)
    values = {
        "sentiment_score": analysis.mood.score,
        "sentiment_label": analysis.mood.label,
        "sentiment_reason": (rules.redact(analysis.mood.reason) if personal else analysis.mood.reason)[:300],
        "topics": topics.as_stored(analysis.topics, redact=personal),
        "highlight": (rules.redact(analysis.mood.highlight) if personal else analysis.mood.highlight)[:300],
        "flags": [f.as_dict() for f in analysis.flags],
        "public_text": analysis.public_text,
        "language": analysis.language,
        "last_error": "",
    }
    return {column.name: values[column.name] for column in ANALYSIS_COLUMNS}


@dataclass(frozen=True)
class ProcessOutcome:
    status: str  # "decided", "skipped" (nothing to do), "superseded" (a person or a newer run decided first)
    state: str = ""


@dataclass
class Work:
    """One claimed row on its way through a batch."""

    item: Testimonial
    attempt: int
    analysis: Analysis | None = None
    decision: rules.Decision | None = None
    stored: dict = field(default_factory=dict)  # analysis_columns(analysis)


class _Unusual(Exception):
    """A batch write met a row some newer run owns: write the rows one by one instead."""


def skip_wal_flush_wait(cursor) -> None:
    """Let this transaction commit without waiting for PostgreSQL to flush its WAL to disk.

    Safe for the pipeline's own writes only: they can all be recomputed. If PostgreSQL crashed
    before the flush, the lost claim or decision leaves the row received or processing, and the
    sweeper runs it again (the WAL is ordered: a decision is never kept without its claim). A
    customer's submission, by contrast, always waits for the flush; its cost is in docs/benchmarks.md.
    """
    if connection.vendor == "postgresql":
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _decision_change(entry: Work) -> Change:
    return Change(
        event=EventType.AUTO_DECISION,
        brand_id=entry.item.brand_id,
        testimonial=entry.item,
        from_state=State.PROCESSING,
        to_state=entry.decision.state,
        reasons=list(entry.decision.reasons),
    )


# --------------------------------------------------------------------------- one row


def store_one(entry: Work) -> ProcessOutcome:
    """Write one row's fingerprints, analysis and fenced decision (with its event) in its own transaction."""
    item, attempt, analysis, decision = entry.item, entry.attempt, entry.analysis, entry.decision
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            skip_wal_flush_wait(cursor)
        # Fingerprints first: until the decision below, this transaction holds no lock on the
        # testimonial's row, so a person deciding meanwhile is never kept waiting by it.
        fingerprints_replace(item=item, bands=analysis.bands, fresh=attempt == 1)
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
        record_many([_decision_change(entry)])
    return ProcessOutcome("decided", decision.state)


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


# --------------------------------------------------------------------------- a batch


def store_batch(work: list[Work]) -> dict[int, ProcessOutcome] | None:
    """Write every row of a batch in one transaction; None (all rolled back) if any row is unusual.

    Same order and fences as `store_one`: fingerprints first (one DELETE for reruns, one INSERT),
    then the fenced decisions (one statement on PostgreSQL), then every row's event with `record_many`.
    """
    now = timezone.now()
    outcomes: dict[int, ProcessOutcome] = {}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            skip_wal_flush_wait(cursor)
            fingerprints_replace_many(work)
            won = _decide_many(cursor, work, now)
            decided = []
            for entry in work:
                item = entry.item
                if item.id in won:
                    outcomes[item.id] = ProcessOutcome("decided", entry.decision.state)
                    decided.append(_decision_change(entry))
                    continue
                # A person decided first: keep the analysis for the admin, leave the state alone.
                cursor.execute(_keep_sql(), [*_values(entry), item.id, entry.attempt, item.text])
                if cursor.rowcount != 1:
                    raise _Unusual(item.id)  # a newer run owns it: its fingerprints must not be ours
                outcomes[item.id] = ProcessOutcome("superseded")
            record_many(decided)
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:  # noqa: BLE001 - _Unusual, or a row the database refuses: write them one by one
        log.info("Batch write of %d rows rolled back (%s); writing them one by one.", len(work), exc)
        return None
    return outcomes


def _values(entry: Work) -> list:
    """A row's analysis values in ANALYSIS_COLUMNS order, as the database driver takes them."""
    return [json.dumps(entry.stored[c.name]) if c.json else entry.stored[c.name] for c in ANALYSIS_COLUMNS]


def _placeholder(column: Column) -> str:
    return "%s::jsonb" if column.json and connection.vendor == "postgresql" else "%s"


def _keep_sql() -> str:
    """Store a superseded row's analysis, fenced by attempt and text, leaving its state alone."""
    table = Testimonial._meta.db_table
    assignments = ", ".join(f"{c.name} = {_placeholder(c)}" for c in ANALYSIS_COLUMNS)
    return f"UPDATE {table} SET {assignments} WHERE id = %s AND attempts = %s AND text = %s"  # noqa: S608


def _decide_many(cursor, work: list[Work], now) -> set[int]:
    """Store analysis and decision of every row still ours; the ids it won.

    Fenced by attempt, text and state. One UPDATE ... FROM unnest(arrays) on PostgreSQL, one UPDATE
    per row on SQLite (one writer at a time there anyway).
    """
    table = Testimonial._meta.db_table
    if connection.vendor == "postgresql":
        names = [c.name for c in ANALYSIS_COLUMNS]
        types = ["bigint", "integer", "text", *(c.pg_type for c in ANALYSIS_COLUMNS), "text"]
        assignments = ", ".join(f"{c.name} = v.{c.name}{'::jsonb' if c.json else ''}" for c in ANALYSIS_COLUMNS)
        rows = [(e.item.id, e.attempt, e.item.text, *_values(e), e.decision.state) for e in work]
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments}, state = v.state, state_changed_at = %s, "  # noqa: S608
            "decided_at = COALESCE(t.decided_at, %s) "
            f"FROM unnest({', '.join(f'%s::{name}[]' for name in types)}) "
            f"AS v (id, attempts, text, {', '.join(names)}, state) "
            "WHERE t.id = v.id AND t.attempts = v.attempts AND t.text = v.text AND t.state = %s RETURNING t.id",
            [now, now, *(list(column) for column in zip(*rows, strict=True)), State.PROCESSING],
        )
        return {row[0] for row in cursor.fetchall()}
    assignments = ", ".join(f"{c.name} = %s" for c in ANALYSIS_COLUMNS)
    statement = (
        f"UPDATE {table} SET {assignments}, state = %s, state_changed_at = %s, "  # noqa: S608 - no user input
        "decided_at = COALESCE(decided_at, %s) WHERE id = %s AND attempts = %s AND text = %s AND state = %s"
    )
    won = set()
    for entry in work:
        item = entry.item
        cursor.execute(
            statement,
            [*_values(entry), entry.decision.state, now, now, item.id, entry.attempt, item.text, State.PROCESSING],
        )
        if cursor.rowcount == 1:
            won.add(item.id)
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
