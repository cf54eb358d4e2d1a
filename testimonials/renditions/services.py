"""Photos, avatars and videos: private originals become safe public renditions (media issue).

Idempotent by construction, like the text pipeline: a worker claims an asset with a conditional
UPDATE (pending -> processing) that also bumps `attempts`, and that attempt number fences every
later write, so a late or duplicate run changes nothing and cleans up after itself.

Failures are of two kinds. The file is the problem (hostile, broken, too long): the asset is
failed at once with a reason an admin can read, and the testimonial stays moderatable as text.
Something around it hiccuped (storage, database, a time limit under load): the asset goes back
to pending and is retried, a bounded number of times.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, transaction
from django.db.models import F
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from testimonials import outages, queue
from testimonials.lifecycle.events import record
from testimonials.media import video as video_media
from testimonials.media.errors import MediaRejected, MediaTimeout
from testimonials.media.images import make_image_renditions
from testimonials.media.sniff import sniff
from testimonials.models import EventType, MediaAsset, Testimonial

log = logging.getLogger(__name__)
Status = MediaAsset.Status

# Worth another try: the file may be fine and the machine busy or a service briefly away.
TRANSIENT = (MediaTimeout, SoftTimeLimitExceeded, OSError, DatabaseError)
# The longest a form may allow (CollectionForm.video_max_seconds), for assets without a form.
DEFAULT_MAX_SECONDS = 600
COPY_CHUNK = 1024 * 1024
# Well under VOUCH_STUCK_AFTER_SECONDS (120 s by default), so a slow transcode keeps its lease.
HEARTBEAT_SECONDS = 30


class _Superseded(Exception):
    """Another run owns the asset now (the sweeper released it, a person reset it)."""


def media_claim(*, asset_id: int) -> int | None:
    """Move an asset from pending to processing; return this attempt's number, or None if not ours."""
    claimed = MediaAsset.objects.filter(id=asset_id, status=Status.PENDING).update(
        status=Status.PROCESSING, status_changed_at=timezone.now(), attempts=F("attempts") + 1, progress=0
    )
    if not claimed:
        return None
    return MediaAsset.objects.values_list("attempts", flat=True).get(id=asset_id)


def media_process(*, asset_id: int, retry: Callable[[Exception, int], None] | None = None) -> str:
    """Make an asset's public renditions; return its status afterwards. Safe to call any number of times.

    On a transient error the asset goes back to pending and `retry(exc, attempt)` is called (a
    Celery task passes one that raises Retry); without it the sweeper picks the asset up later.
    """
    attempt = media_claim(asset_id=asset_id)
    if attempt is None:
        status = MediaAsset.objects.filter(id=asset_id).values_list("status", flat=True).first()
        return status or "missing"
    asset = MediaAsset.objects.select_related("testimonial__form").get(id=asset_id)
    if attempt > settings.VOUCH_MAX_ATTEMPTS:
        _fail(asset, attempt, f"Gave up after {attempt - 1} attempts. Last error: {asset.error or 'unknown'}")
        return Status.FAILED
    saved: list[str] = []
    try:
        fields = _process(asset, attempt, saved)
    except MediaRejected as exc:
        _discard(saved)
        _fail(asset, attempt, exc.reason)
        return Status.FAILED
    except _Superseded:
        _discard(saved)
        return "superseded"
    except TRANSIENT as exc:
        _discard(saved)
        return _transient(asset, attempt, exc, retry)
    except Exception as exc:  # a bug must not loop: fail the asset, keep the testimonial
        log.exception("Media asset %s failed unexpectedly", asset_id)
        _discard(saved)
        _fail(asset, attempt, f"Processing failed unexpectedly ({type(exc).__name__}); an administrator can retry.")
        return Status.FAILED
    with transaction.atomic():
        won = MediaAsset.objects.filter(id=asset.id, status=Status.PROCESSING, attempts=attempt).update(
            **fields, status=Status.READY, status_changed_at=timezone.now(), progress=100, error=""
        )
        if won:
            # Widgets showing this testimonial now show its photo or video: a lifecycle event says so.
            item = Testimonial.objects.only("id", "public_id", "brand_id", "state").get(id=asset.testimonial_id)
            record(
                event=EventType.MEDIA_READY,
                testimonial=item,
                from_state=item.state,
                to_state=item.state,
                reasons=[f"{asset.get_kind_display()} ready."],
            )
    if not won:
        _discard(saved)
        return "superseded"
    # Renditions of an earlier run (a reprocess) are replaced, not left behind.
    _discard([d["path"] for d in asset.derivatives.values() if isinstance(d, dict) and d.get("path") not in saved])
    return Status.READY


def _transient(asset: MediaAsset, attempt: int, exc: Exception, retry) -> str:
    reason = _transient_reason(exc)
    if outages.is_infrastructure_error(exc):
        # A full disk or a database restart says nothing about the file: give the attempt back, so a
        # long outage never leaves a photo or video failed for good (the retry waits minutes).
        released = MediaAsset.objects.filter(id=asset.id, status=Status.PROCESSING, attempts=attempt).update(
            status=Status.PENDING, status_changed_at=timezone.now(), progress=0, error=reason, attempts=attempt - 1
        )
        if released and retry is not None:
            retry(exc, attempt - 1)
        return Status.PENDING
    if attempt >= settings.VOUCH_MAX_ATTEMPTS:
        _fail(asset, attempt, f"Gave up after {attempt} attempts. Last error: {reason}")
        return Status.FAILED
    released = MediaAsset.objects.filter(id=asset.id, status=Status.PROCESSING, attempts=attempt).update(
        status=Status.PENDING, status_changed_at=timezone.now(), progress=0, error=reason
    )
    if released and retry is not None:
        retry(exc, attempt)
    return Status.PENDING


def _transient_reason(exc: Exception) -> str:
    if isinstance(exc, MediaTimeout | SoftTimeLimitExceeded):
        return "Processing took too long; it will be retried."
    return f"A temporary problem interrupted processing ({type(exc).__name__}); it will be retried."


def _fail(asset: MediaAsset, attempt: int, reason: str) -> None:
    MediaAsset.objects.filter(id=asset.id, status=Status.PROCESSING, attempts=attempt).update(
        status=Status.FAILED, status_changed_at=timezone.now(), error=reason[:2000]
    )


def _discard(paths: list[str]) -> None:
    for path in paths:
        try:
            default_storage.delete(path)
        except OSError:
            log.warning("Could not delete rendition %s", path, exc_info=True)


def _progress(asset_id: int, attempt: int) -> Callable[[int], None]:
    """A progress writer that touches the row every 5 percent or HEARTBEAT_SECONDS, and notices when it lost it.

    Each write also renews `status_changed_at`: the sweeper releases assets stuck in processing
    past VOUCH_STUCK_AFTER_SECONDS, and a long transcode that is still moving is not stuck.
    """
    last = {"percent": -100, "at": time.monotonic()}

    def write(percent: int) -> None:
        now = time.monotonic()
        if percent < 100 and percent - last["percent"] < 5 and now - last["at"] < HEARTBEAT_SECONDS:
            return
        last["percent"], last["at"] = percent, now
        ours = MediaAsset.objects.filter(id=asset_id, status=Status.PROCESSING, attempts=attempt).update(
            progress=max(0, min(100, percent)), status_changed_at=timezone.now()
        )
        if not ours:
            raise _Superseded

    return write


def _local_copy(asset: MediaAsset, folder: Path) -> Path:
    """Copy the private original to a local file under a name we chose, refusing oversized files."""
    if not asset.original:
        raise MediaRejected("No file was received.", code="empty")
    limit = settings.UPLOAD_MAX_VIDEO_BYTES if asset.kind == MediaAsset.Kind.VIDEO else settings.UPLOAD_MAX_PHOTO_BYTES
    target = folder / "source"
    copied = 0
    try:
        source = asset.original.open("rb")
    except FileNotFoundError as exc:
        raise MediaRejected("The uploaded file is missing from storage.", code="missing") from exc
    with source, open(target, "wb") as out:
        while chunk := source.read(COPY_CHUNK):
            copied += len(chunk)
            if copied > limit:
                raise MediaRejected(f"This file is larger than the {filesizeformat(limit)} limit.", code="too_big")
            out.write(chunk)
    return target


def _save(name: str, content, *, saved: list[str], folder: str) -> str:
    path = default_storage.save(f"{folder}/{name}", content)
    saved.append(path)
    return path


def _process(asset: MediaAsset, attempt: int, saved: list[str]) -> dict:
    progress = _progress(asset.id, attempt)
    # One unguessable folder per run: public URLs reveal nothing and cannot be enumerated.
    folder = f"r/{secrets.token_urlsafe(18)}"
    work = Path(tempfile.mkdtemp(prefix="vouch-media-"))
    try:
        local = _local_copy(asset, work)
        expected = "video" if asset.kind == MediaAsset.Kind.VIDEO else "image"
        detected = sniff(local, expect=expected)
        if expected == "image":
            result = make_image_renditions(local, kind=asset.kind)
            progress(80)
            derivatives = {}
            for rendition in result.renditions:
                path = _save(rendition.name, ContentFile(rendition.content), saved=saved, folder=folder)
                derivatives[rendition.name] = _describe(path, rendition)
            return {
                "derivatives": derivatives,
                "width": result.width,
                "height": result.height,
                "content_type": detected.content_type,
            }
        return _process_video(asset, local, work, progress, saved, folder, detected.content_type)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _process_video(asset, local: Path, work: Path, progress, saved: list[str], folder: str, content_type: str) -> dict:
    form = asset.testimonial.form
    max_seconds = form.video_max_seconds if form else DEFAULT_MAX_SECONDS
    info = video_media.inspect_video(local, max_seconds=max_seconds)
    progress(5)
    # Leave room under Celery's soft limit so ffmpeg's own timeout speaks first, with a clear reason.
    timeout = max(30.0, min(60 + 4 * info.duration, settings.VOUCH_MEDIA_SOFT_TIME_LIMIT - 30))
    output = work / "video.mp4"
    result = video_media.transcode_video(
        local, output, info=info, progress_callback=lambda p: progress(5 + p * 85 // 100), timeout=timeout
    )
    poster = video_media.make_poster(output, duration=result.duration, workdir=work)
    progress(95)
    derivatives = {}
    with open(output, "rb") as fh:
        path = _save("video.mp4", File(fh), saved=saved, folder=folder)
    derivatives["video.mp4"] = {
        "path": path,
        "width": result.width,
        "height": result.height,
        "bytes": result.bytes,
        "content_type": "video/mp4",
        "duration": round(result.duration, 3),
    }
    for rendition in poster.renditions:
        path = _save(rendition.name, ContentFile(rendition.content), saved=saved, folder=folder)
        derivatives[rendition.name] = _describe(path, rendition)
    width, height = info.display_size
    return {
        "derivatives": derivatives,
        "width": width,
        "height": height,
        "duration_seconds": round(result.duration, 3),
        "content_type": content_type,
    }


def _describe(path: str, rendition) -> dict:
    return {
        "path": path,
        "width": rendition.width,
        "height": rendition.height,
        "bytes": rendition.bytes,
        "content_type": rendition.content_type,
    }


def media_sweep(*, cutoff, now) -> int:
    """Re-enqueue assets whose message was lost or whose worker died (pending or processing past the lease)."""
    from testimonials.renditions.tasks import media_process_task  # tasks import this module

    stuck = MediaAsset.objects.filter(status__in=[Status.PENDING, Status.PROCESSING], status_changed_at__lt=cutoff)
    ids = list(stuck.values_list("id", flat=True)[:200])
    MediaAsset.objects.filter(id__in=ids, status=Status.PROCESSING).update(status=Status.PENDING)
    MediaAsset.objects.filter(id__in=ids).update(status_changed_at=now)
    for asset_id in ids:
        queue.send(media_process_task, asset_id)
    return len(ids)


def media_withdraw(*, testimonial_ids: list[int]) -> int:
    """Take a rejected or unpublished testimonial's photos and videos off the public web, as erasure does.

    Their public renditions are deleted (their URLs, once on a widget or wall, answer 404 from then
    on) and the assets go back to pending: they are made again from the private original under a new
    unguessable folder, whose address no page has shown, ready if a person approves the testimonial
    again. Idempotent: deleting a file already gone is fine. Returns how many assets.
    """
    from testimonials.renditions.tasks import media_process_task  # tasks import this module

    assets = list(
        MediaAsset.objects.select_for_update().filter(testimonial_id__in=testimonial_ids, status=Status.READY)
    )
    for asset in assets:
        paths = [d["path"] for d in asset.derivatives.values() if isinstance(d, dict) and d.get("path")]
        for path in paths:
            default_storage.delete(path)  # OSError raises: the lifecycle entry comes back later
    ids = [asset.id for asset in assets]
    if ids:
        MediaAsset.objects.filter(id__in=ids).update(
            status=Status.PENDING, derivatives={}, progress=0, attempts=0, status_changed_at=timezone.now()
        )
        for asset_id in ids:
            queue.send_on_commit(media_process_task, asset_id)
    return len(ids)
