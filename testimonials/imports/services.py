"""Importing reviews from another platform's export: upload, a background job in checkpointed chunks, and a
report per row.

Every imported review is stored as `received` with source "import", its original date, platform and
link, never verified, and goes through the same moderation pipeline as any testimonial (its
processing is enqueued after commit, and `testimonial.received` reaches webhooks). Uploading the same
file again imports nothing twice: each review's key is unique within its brand.

A chunk (its testimonials, report rows, lifecycle entries and the job's checkpoint) commits as one, so
a job whose worker dies resumes after its last chunk, creating nothing twice.
"""

from __future__ import annotations

import io
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from testimonials import queue, safehttp
from testimonials.collection.uploads import kind_limit
from testimonials.errors import ApplicationError, PermissionDenied
from testimonials.imports import presets, reader
from testimonials.imports.models import ReviewImport, ReviewImportRow
from testimonials.lifecycle.events import Change, record_many
from testimonials.media.errors import MediaRejected
from testimonials.media.sniff import sniff
from testimonials.models import Brand, EventType, MediaAsset, Testimonial
from testimonials.selectors import user_can_edit_brand

log = logging.getLogger(__name__)

CHUNK = 500
# A running job that has not written a checkpoint for this long lost its worker; it is resumed.
STALLED_AFTER = timedelta(minutes=5)
Status = ReviewImport.Status


def _media_allowed() -> bool:
    return settings.VOUCH_IMPORT_FETCH_MEDIA


def import_job_create(
    *, brand: Brand, actor, preset: str, upload: File, file_name: str = "", fetch_media: bool = False
) -> ReviewImport:
    """Check the file against its preset, keep it privately and start the import after commit (editors, owners).

    Raises ApplicationError naming the field for a file that is too large or does not fit the preset.
    """
    if not user_can_edit_brand(actor, brand):
        raise PermissionDenied("Only the brand's owners and editors can import reviews.")
    chosen = presets.BY_CODE.get(preset)
    if chosen is None:
        raise ApplicationError(f"Unknown preset {preset!r}.", field="preset")
    if fetch_media and not _media_allowed():
        raise ApplicationError(
            "This Vouch installation does not fetch photos or videos by URL (VOUCH_IMPORT_FETCH_MEDIA).",
            field="fetch_media",
        )
    size = upload.size or 0
    if size > settings.VOUCH_IMPORT_MAX_BYTES:
        limit = settings.VOUCH_IMPORT_MAX_BYTES // (1024 * 1024)
        raise ApplicationError(f"The file is larger than {limit} MB. Split it into smaller files.", field="file")
    if size == 0:
        raise ApplicationError("The file is empty.", field="file")
    upload.seek(0)
    try:
        first = next(reader.read_reviews(upload, chosen), None)
    except reader.FileProblem as exc:
        raise ApplicationError(str(exc), field="file") from exc
    finally:
        upload.seek(0)
    if first is None:
        raise ApplicationError("The file holds no reviews.", field="file")
    job = ReviewImport(
        brand=brand, created_by=actor, preset=chosen.code, fetch_media=fetch_media, size_bytes=size,
        file_name=(file_name or getattr(upload, "name", "") or "").replace("\x00", "")[-200:],
    )  # fmt: skip
    # A server-chosen name: the customer's file name could be anything.
    job.file.save(f"{secrets.token_hex(16)}.{chosen.format}", upload, save=False)
    try:
        with transaction.atomic():
            job.save()
            from testimonials.imports.tasks import import_job_run_task  # tasks import this module

            queue.send_on_commit(import_job_run_task, job.id)
    except BaseException:
        job.file.delete(save=False)
        raise
    return job


def _claim(job_id: int, now) -> ReviewImport | None:
    """Take a waiting job, or a running one whose worker stopped checkpointing; None when it is not ours."""
    takeable = Q(status=Status.PENDING) | Q(status=Status.RUNNING, heartbeat_at__lt=now - STALLED_AFTER)
    claimed = ReviewImport.objects.filter(takeable, id=job_id).update(
        status=Status.RUNNING,
        attempts=F("attempts") + 1,
        heartbeat_at=now,
        started_at=Coalesce("started_at", Value(now)),
    )
    return ReviewImport.objects.select_related("brand").get(id=job_id) if claimed else None


def import_job_run(*, job_id: int) -> str:
    """Import a job's file from its checkpoint on: "done", "failed" or "skipped" (not ours to run).

    Idempotent: each chunk commits with the checkpoint, and reviews already in the brand are duplicates.
    """
    job = _claim(job_id, timezone.now())
    if job is None:
        return "skipped"
    if job.attempts > settings.VOUCH_MAX_ATTEMPTS:
        return _finish(job, Status.FAILED, error=job.error or "The import stopped too many times.")
    preset = presets.BY_CODE[job.preset]
    try:
        if job.total_rows is None:
            with job.file.open("rb") as raw:
                job.total_rows = reader.count_reviews(raw, preset)
            ReviewImport.objects.filter(id=job.id).update(total_rows=job.total_rows)
        with job.file.open("rb") as raw:
            chunk: list[reader.ImportedReview] = []
            for review in reader.read_reviews(raw, preset):
                if review.number <= job.processed_rows:
                    continue  # committed before a restart
                chunk.append(review)
                if len(chunk) >= CHUNK:
                    _import_chunk(job, chunk)
                    chunk = []
            if chunk:
                _import_chunk(job, chunk)
    except reader.FileProblem as exc:
        return _finish(job, Status.FAILED, error=str(exc))
    except (OSError, ValueError) as exc:
        log.exception("Import job %s failed", job.id)
        return _finish(job, Status.FAILED, error=f"The file could not be read: {exc}"[:1000])
    return _finish(job, Status.DONE)


def _finish(job: ReviewImport, status: str, *, error: str = "") -> str:
    ReviewImport.objects.filter(id=job.id).update(status=status, finished_at=timezone.now(), error=error)
    # The file holds customers' personal data: it goes once the job is over (the report stays).
    if job.file:
        job.file.delete(save=False)
        ReviewImport.objects.filter(id=job.id).update(file="")
    return status


def _fetch_media(job: ReviewImport, review: reader.ImportedReview) -> list[tuple[str, str, str]]:
    """Each listed photo or video fetched through the SSRF guard and checked by content:
    (kind, stored original name, content type). Failures become notes on the row, never errors."""
    stored = []
    if not review.media:
        return stored
    if not job.fetch_media:
        review.notes.append("Photos and videos listed by URL were not fetched.")
        return stored
    field = MediaAsset._meta.get_field("original")
    for kind, url in review.media:
        try:
            response = safehttp.fetch(
                url, allow_loopback=settings.VOUCH_OUTBOUND_ALLOW_LOOPBACK, max_bytes=kind_limit(kind)
            )
            found = sniff(io.BytesIO(response.body), expect="video" if kind == "video" else "image")
        except safehttp.OutboundRefused as exc:
            review.notes.append(f"The {kind} was not fetched: {exc.message}")
            continue
        except (safehttp.OutboundFailed, MediaRejected) as exc:
            reason = exc.reason if isinstance(exc, MediaRejected) else str(exc)
            review.notes.append(f"The {kind} was not imported: {reason}"[:200])
            continue
        name = field.generate_filename(None, secrets.token_hex(16) + found.extension)
        stored.append((kind, field.storage.save(name, ContentFile(response.body), max_length=100), found.content_type))
    return stored


def _import_chunk(job: ReviewImport, chunk: list[reader.ImportedReview]) -> None:
    """Store one chunk's reviews, report rows and lifecycle entries, and move the checkpoint: all or nothing."""
    media = {review.number: _fetch_media(job, review) for review in chunk if not review.problem}
    try:
        with transaction.atomic():
            counts = _store_chunk(job, chunk, media)
            ReviewImport.objects.filter(id=job.id).update(
                processed_rows=chunk[-1].number,
                created_count=F("created_count") + counts[ReviewImportRow.Status.CREATED],
                duplicate_count=F("duplicate_count") + counts[ReviewImportRow.Status.DUPLICATE],
                error_count=F("error_count") + counts[ReviewImportRow.Status.ERROR],
                heartbeat_at=timezone.now(),
            )
    except BaseException:
        storage = MediaAsset._meta.get_field("original").storage
        for stored in media.values():
            for _, name, _ in stored:
                storage.delete(name)
        raise
    job.processed_rows = chunk[-1].number


def _store_chunk(job: ReviewImport, chunk: list[reader.ImportedReview], media: dict) -> dict[str, int]:
    keys = {review.number: review.key() for review in chunk if not review.problem}
    existing = dict(
        Testimonial.objects.filter(brand_id=job.brand_id, import_key__in=set(keys.values())).values_list(
            "import_key", "id"
        )
    )
    now = timezone.now()
    rows: list[ReviewImportRow] = []
    new: list[tuple[reader.ImportedReview, Testimonial]] = []
    seen: dict[str, reader.ImportedReview] = {}
    for review in chunk:
        if review.problem:
            rows.append(
                ReviewImportRow(
                    job=job, number=review.number, status=ReviewImportRow.Status.ERROR, message=review.problem
                )
            )
            continue
        key = keys[review.number]
        if key in existing or key in seen:
            rows.append(
                ReviewImportRow(
                    job=job,
                    number=review.number,
                    status=ReviewImportRow.Status.DUPLICATE,
                    testimonial_id=existing.get(key),
                    message="Already imported." if key in existing else "The same review appears earlier in the file.",
                )
            )
            continue
        seen[key] = review
        new.append((review, _testimonial(job, review, key, now)))
    created = Testimonial.objects.bulk_create([item for _, item in new])
    for (review, _), item in zip(new, created, strict=True):
        note = " ".join(review.notes)[:300]
        rows.append(
            ReviewImportRow(
                job=job, number=review.number, status=ReviewImportRow.Status.CREATED, testimonial=item, message=note
            )
        )
    ReviewImportRow.objects.bulk_create(sorted(rows, key=lambda row: row.number))
    assets = [
        MediaAsset(testimonial=item, kind=kind, original=name, content_type=content_type, original_name="")
        for review, item in zip((r for r, _ in new), created, strict=True)
        for kind, name, content_type in media.get(review.number, [])
    ]
    assets = MediaAsset.objects.bulk_create(assets)
    record_many(
        [
            Change(
                event=EventType.RECEIVED,
                brand_id=job.brand_id,
                testimonial=item,
                actor=job.created_by,
                to_state=item.state,
                reasons=[f"Imported from {item.source_platform or 'a file'} (import {job.public_id})."],
            )
            for item in created
        ]
    )
    _enqueue_processing([item.id for item in created], [asset.id for asset in assets])
    counts = dict.fromkeys(ReviewImportRow.Status.values, 0)
    for row in rows:
        counts[row.status] += 1
    return counts


def _testimonial(job: ReviewImport, review: reader.ImportedReview, key: str, now) -> Testimonial:
    item = Testimonial(
        brand_id=job.brand_id,
        form=None,
        source=Testimonial.Source.IMPORT,
        source_platform=review.platform,
        source_url=review.source_url,
        source_created_at=review.written_at,
        import_key=key,
        author_name=review.author_name,
        author_email=review.author_email,
        author_title=review.author_title,
        author_company=review.author_company,
        author_url=review.author_url,
        rating=review.rating,
        text=review.text,
        # Never verified: an import proves no purchase. Published elsewhere, so no consent was asked here.
        is_verified=False,
        consent_given=False,
        state=Testimonial.State.RECEIVED,
        state_changed_at=now,
        created_at=now,
    )
    return item


def _enqueue_processing(testimonial_ids: list[int], asset_ids: list[int]) -> None:
    """One processing message per batch: each claims its row and up to VOUCH_PROCESS_BATCH waiting ones."""
    from testimonials.processing.tasks import testimonial_process_task
    from testimonials.renditions.tasks import media_process_task

    batch = max(1, settings.VOUCH_PROCESS_BATCH)
    for start in range(0, len(testimonial_ids), batch):
        queue.send_on_commit(testimonial_process_task, testimonial_ids[start])
    for asset_id in asset_ids:
        queue.send_on_commit(media_process_task, asset_id)


def imports_resume_stalled() -> list[int]:
    """For the periodic pass: jobs waiting without a message (broker down) or whose worker died; enqueued again."""
    now = timezone.now()
    stalled = ReviewImport.objects.filter(
        Q(status=Status.PENDING, created_at__lt=now - timedelta(minutes=1))
        | Q(status=Status.RUNNING, heartbeat_at__lt=now - STALLED_AFTER)
    )
    ids = list(stalled.values_list("id", flat=True)[:100])
    from testimonials.imports.tasks import import_job_run_task  # tasks import this module

    for job_id in ids:
        queue.send(import_job_run_task, job_id)
    return ids
