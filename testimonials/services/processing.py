"""The automatic pipeline: a received testimonial gets sentiment, flags and a decision.

Idempotent by construction. A worker claims a row with a conditional UPDATE that also bumps
`attempts`; that attempt number fences every later write, so a late or duplicate run changes
nothing, and a person's decision made meanwhile always wins.

Order of work, chosen so that a crash anywhere leaves nothing half-done that a retry would repeat:
claim (commit) -> analyse (pure, no writes) -> replace this row's fingerprints (one transaction)
-> store the analysis and the fenced decision with its event (one transaction).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from testimonials import queue
from testimonials.models import ContentFingerprint, MediaAsset, Testimonial
from testimonials.moderation import rules, sentiment
from testimonials.services.events import event_record
from testimonials.services.widgets import widgets_request_publish

log = logging.getLogger(__name__)
State = Testimonial.State

PROCESSING_FIELDS = (
    "id", "brand_id", "form_id", "text", "rating", "flags", "last_error", "brand__auto_approve", "brand__blocklist",
    "form__text_min_length", "form__text_max_length",
)  # fmt: skip
# Near-duplicate candidates compared exactly, most shared LSH bands first.
DUPLICATE_CANDIDATES = 8


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


def testimonial_claim(*, testimonial_id: int) -> int | None:
    """Move a row from received to processing; return this attempt's number, or None if not ours."""
    table = Testimonial._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        _skip_wal_flush_wait(cursor)
        # UPDATE ... RETURNING (PostgreSQL and SQLite >= 3.35): one statement claims and counts.
        cursor.execute(
            f"UPDATE {table} SET state = %s, state_changed_at = %s, attempts = attempts + 1 "  # noqa: S608 - no user input
            "WHERE id = %s AND state = %s RETURNING attempts",
            [State.PROCESSING, timezone.now(), testimonial_id, State.RECEIVED],
        )
        row = cursor.fetchone()
    return row[0] if row else None


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


def testimonial_analyse(*, item: Testimonial) -> Analysis:
    """Everything the pipeline concludes about a testimonial's text. Reads only; writes nothing."""
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
    bands = rules.fingerprint(item.text)
    duplicate = testimonial_duplicate_flag(item=item, bands=bands)
    if duplicate:
        flags.append(duplicate)
    return Analysis(
        mood=mood,
        flags=flags,
        bands=bands,
        language=rules.detect_language(item.text),
        public_text=rules.redact(item.text),
    )


def testimonial_duplicate_flag(*, item: Testimonial, bands: list[int]) -> rules.Flag | None:
    """The flag for the most similar earlier testimonial sharing an LSH band, in any brand."""
    if not bands:
        return None
    # Raw SQL: this runs for every testimonial, and the ORM's query building cost more than the query.
    fingerprint_table, testimonial_table = ContentFingerprint._meta.db_table, Testimonial._meta.db_table
    placeholders = ", ".join(["%s"] * len(bands))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT f.testimonial_id, f.brand_id, t.text, COUNT(*) AS shared "  # noqa: S608 - no user input
            f"FROM {fingerprint_table} f JOIN {testimonial_table} t ON t.id = f.testimonial_id "
            f"WHERE f.band IN ({placeholders}) AND f.testimonial_id <> %s "
            "GROUP BY f.testimonial_id, f.brand_id, t.text ORDER BY shared DESC, f.testimonial_id LIMIT %s",
            [*bands, item.id, DUPLICATE_CANDIDATES],
        )
        candidates = [
            {"testimonial_id": row[0], "brand_id": row[1], "testimonial__text": row[2]} for row in cursor.fetchall()
        ]
    if not candidates:
        return None
    best: tuple[float, bool, int] | None = None
    for candidate in candidates:
        score = rules.similarity(item.text, candidate["testimonial__text"])
        key = (score, candidate["brand_id"] == item.brand_id, candidate["testimonial_id"])
        if best is None or key[:2] > best[:2]:
            best = key
    flag = rules.duplicate_flag(similarity=best[0], same_brand=best[1])
    if flag and best[1]:
        # Within the brand the admin may open the other one; another brand's ids are never shown.
        flag = dataclasses.replace(flag, evidence=(*flag.evidence, f"testimonial #{best[2]}"))
    return flag


def testimonial_process(*, testimonial_id: int) -> ProcessOutcome:
    """Analyse and decide one testimonial. Safe to call any number of times, concurrently too."""
    attempt = testimonial_claim(testimonial_id=testimonial_id)
    if attempt is None:
        return ProcessOutcome("skipped")
    # Only what the analysis reads: loading all ~80 columns of three tables cost ~2 ms of CPU per row.
    item = Testimonial.objects.select_related("brand", "form").only(*PROCESSING_FIELDS).get(id=testimonial_id)
    if attempt > settings.VOUCH_MAX_ATTEMPTS:
        testimonial_mark_failed(testimonial_id=item.id, attempt=attempt, error=item.last_error or "Too many attempts.")
        return ProcessOutcome("decided", State.FAILED)

    analysis = testimonial_analyse(item=item)
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
            **stored, state=decision.state, state_changed_at=now, decided_at=Coalesce(F("decided_at"), Value(now))
        )
        if not won:
            # A person decided first: keep the analysis for the admin, leave the state alone.
            # If a newer run owns the row instead, it writes its own: drop these fingerprints.
            if not mine.update(**stored):
                transaction.set_rollback(True)
            return ProcessOutcome("superseded")
        event_record(
            testimonial=item,
            action="auto_decision",
            from_state=State.PROCESSING,
            to_state=decision.state,
            reasons=decision.reasons,
        )
        if decision.state == State.APPROVED:
            widgets_request_publish(brand_id=item.brand_id)
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
    """Re-enqueue accepted work whose message was lost (broker down, worker killed).

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
    return {"testimonials": len(waiting), "released": released, "media": len(media)}
