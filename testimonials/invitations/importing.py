"""CSV imports as background jobs: upload, map the columns, import in checkpointed chunks, report per row.

A chunk's recipients, its report lines and the job's checkpoint (`processed_rows`) commit together,
so a worker that dies mid-file leaves the job exactly at a chunk boundary: the next run (the
tick resumes a job whose heartbeat stopped) skips the rows already done. The unique address per
campaign holds it too: re-uploading the same file adds nobody.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from testimonials import queue
from testimonials.errors import ApplicationError, PermissionDenied
from testimonials.invitations import csvfile
from testimonials.invitations.addresses import address_hash
from testimonials.invitations.models import Campaign, ImportIssue, ImportJob, Recipient
from testimonials.invitations.services import Customer, RowIssue, _kick_sender, recipients_add
from testimonials.selectors import user_can_edit_brand

log = logging.getLogger(__name__)
Status = ImportJob.Status
IMPORT_MAX_BYTES = 20 * 1024 * 1024  # about 200,000 rows: far beyond an ordinary 10,000
CHUNK_ROWS = 500
IMPORT_MAX_ATTEMPTS = 3
INVALID_KINDS = (ImportIssue.Kind.INVALID_EMAIL, ImportIssue.Kind.MISSING, ImportIssue.Kind.INVALID_VALUE)


def import_job_start(*, campaign: Campaign, upload: UploadedFile, actor) -> ImportJob:
    """Keep an uploaded customer list and guess its column mapping; the import starts once it is confirmed."""
    if not user_can_edit_brand(actor, campaign.brand):
        raise PermissionDenied("Only the brand's owners and editors can upload customer lists.")
    if upload.size is not None and upload.size > IMPORT_MAX_BYTES:
        raise ApplicationError(f"The file is over {IMPORT_MAX_BYTES // (1024 * 1024)} MB. Split it into smaller files.")
    try:
        shape = csvfile.shape_of(upload)
    except csvfile.CsvProblem as problem:
        raise ApplicationError(problem.message, field="file") from problem
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    job = ImportJob(
        brand=campaign.brand,
        campaign=campaign,
        original_name=(upload.name or "customers.csv")[-200:],
        sha256=digest.hexdigest(),
        headers=shape.headers,
        mapping=csvfile.guess_mapping(shape.headers),
        status=Status.MAPPING,
        created_by=actor,
    )
    # A server-chosen name: never the brand's file name.
    job.file.save(f"{secrets.token_hex(16)}.csv", upload, save=False)
    job.save()
    return job


def import_job_confirm(*, job: ImportJob, mapping: dict[str, str], actor) -> ImportJob:
    """Start importing with this column mapping (field -> header). Raises ApplicationError for a bad mapping."""
    if not user_can_edit_brand(actor, job.brand):
        raise PermissionDenied("Only the brand's owners and editors can import customer lists.")
    mapping = {column: header for column, header in mapping.items() if header}
    unknown = [c for c in mapping if c not in csvfile.COLUMNS] + [h for h in mapping.values() if h not in job.headers]
    if unknown:
        raise ApplicationError(f"Unknown column: {unknown[0]}.")
    if "email" not in mapping:
        raise ApplicationError("Choose the column that holds the email addresses.", field="email")
    if "name" not in mapping and "first_name" not in mapping:
        raise ApplicationError("Choose the column with the customers' names (or first names).", field="name")
    with transaction.atomic():
        if not ImportJob.objects.filter(pk=job.pk, status=Status.MAPPING).update(mapping=mapping, status=Status.QUEUED):
            raise ApplicationError("This import has already started.")
        job_id = job.pk
        queue.send_on_commit(_run_task(), job_id)
    job.refresh_from_db()
    return job


def _run_task():
    from testimonials.invitations.tasks import import_job_run_task  # tasks import this module

    return import_job_run_task


def _stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.VOUCH_STUCK_AFTER_SECONDS)


def _claim(job_id: int, now: datetime) -> bool:
    """Queued, or running with a heartbeat that stopped (its worker died): ours now."""
    return bool(
        ImportJob.objects.filter(id=job_id)
        .filter(Q(status=Status.QUEUED) | Q(status=Status.RUNNING, updated_at__lt=_stale_before(now)))
        .update(status=Status.RUNNING, attempts=F("attempts") + 1, started_at=now, updated_at=now)
    )


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Import a confirmed job from its checkpoint to the end. None when another worker has it (or it is done)."""
    now = timezone.now()
    if not _claim(job_id, now):
        return None
    job = ImportJob.objects.select_related("campaign", "campaign__brand").get(pk=job_id)
    if job.attempts > IMPORT_MAX_ATTEMPTS:
        return _finish(
            job, Status.FAILED, f"Stopped after {IMPORT_MAX_ATTEMPTS} attempts; the last one did not finish."
        )
    try:
        with job.file.open("rb") as raw:
            shape = csvfile.Shape(**_shape_fields(job, raw))
            if not job.total_rows:
                job.total_rows = csvfile.count_rows(raw, shape)
                raw.seek(0)
                ImportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows, updated_at=timezone.now())
            _import_rows(job, csvfile.rows(raw, shape), shape)
    except (csv.Error, csvfile.CsvProblem) as exc:
        message = getattr(exc, "message", str(exc))
        return _finish(job, Status.FAILED, f"The file could not be read after row {job.processed_rows + 1}: {message}")
    return _finish(job, Status.DONE, "")


def _shape_fields(job: ImportJob, raw) -> dict:
    shape = csvfile.shape_of(raw)
    if shape.headers != job.headers:
        raise csvfile.CsvProblem("the columns changed since the upload")
    return {"encoding": shape.encoding, "delimiter": shape.delimiter, "headers": shape.headers}


def _import_rows(job: ImportJob, rows: Iterable[tuple[int, list[str]]], shape: csvfile.Shape) -> None:
    chunk: list[tuple[int, list[str]]] = []
    for index, row in enumerate(rows):
        if index < job.processed_rows:
            continue  # done by an earlier run: the checkpoint is committed with its rows
        chunk.append(row)
        if len(chunk) >= CHUNK_ROWS:
            _import_chunk(job, chunk, shape)
            chunk = []
    if chunk:
        _import_chunk(job, chunk, shape)


def _customer(row_number: int, cells: list[str], shape: csvfile.Shape, mapping: dict[str, str]) -> Customer | RowIssue:
    values = csvfile.read_cells(cells, shape, mapping)
    name = values.get("name") or " ".join(p for p in (values.get("first_name"), values.get("last_name")) if p)
    try:
        order_date = csvfile.parse_date(values.get("order_date"))
        locale = csvfile.parse_locale(values.get("locale"))
    except csvfile.CsvProblem as problem:
        return RowIssue(row_number, ImportIssue.Kind.INVALID_VALUE, problem.message, values.get("email")[:254])
    return Customer(
        email=values.get("email"),
        name=name,
        order_id=values.get("order_id"),
        order_date=order_date,
        product=values.get("product"),
        locale=locale,
        row_number=row_number,
    )


@transaction.atomic
def _import_chunk(job: ImportJob, chunk: list[tuple[int, list[str]]], shape: csvfile.Shape) -> None:
    """One chunk: its recipients, its report lines and the checkpoint, all or nothing."""
    customers, issues = [], []
    for row_number, cells in chunk:
        if csvfile.is_blank(cells):
            continue
        parsed = _customer(row_number, cells, shape, job.mapping)
        (issues if isinstance(parsed, RowIssue) else customers).append(parsed)
    result = recipients_add(campaign=job.campaign, customers=customers, source=Recipient.Source.CSV, import_job=job)
    issues += result.issues
    ImportIssue.objects.bulk_create(
        [
            ImportIssue(
                job=job,
                row_number=issue.row_number or 0,
                kind=issue.kind,
                message=issue.message[:300],
                value=issue.value[:254],
                email_hash=address_hash(issue.value) if "@" in issue.value else "",
            )
            for issue in issues
        ]
    )
    counts = {
        "added": len(result.added),
        "duplicates": sum(1 for i in issues if i.kind == ImportIssue.Kind.DUPLICATE),
        "suppressed": sum(1 for i in issues if i.kind == ImportIssue.Kind.SUPPRESSED),
        "invalid": sum(1 for i in issues if i.kind in INVALID_KINDS),
    }
    ImportJob.objects.filter(pk=job.pk).update(
        processed_rows=F("processed_rows") + len(chunk),
        updated_at=timezone.now(),
        **{name: F(name) + n for name, n in counts.items()},
    )
    job.processed_rows += len(chunk)


def _finish(job: ImportJob, status: str, error: str) -> ImportJob:
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(status=status, error=error, finished_at=timezone.now())
        if status == Status.DONE:
            _kick_sender()
    if job.file:
        # The list held every customer's address: once imported, only the per-row report stays.
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
    if status == Status.FAILED:
        log.warning("Import %s failed: %s", job.public_id, error)
    job.refresh_from_db()
    return job


def import_jobs_resume(*, now: datetime | None = None) -> int:
    """Jobs whose message was lost (queued too long) or whose worker died (running, heartbeat stopped)."""
    now = now or timezone.now()
    stale = ImportJob.objects.filter(
        Q(status=Status.QUEUED) | Q(status=Status.RUNNING), updated_at__lt=_stale_before(now)
    ).values_list("id", flat=True)
    ids = list(stale[:50])
    task = _run_task()
    for job_id in ids:
        queue.send(task, job_id)
    return len(ids)
