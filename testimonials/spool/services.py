"""Writing submissions to the spool, replaying them, and what /readyz and metrics read (see __init__.py)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import fields
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.utils import timezone

from testimonials import outages
from testimonials.collection.submission import MediaUpload, SubmissionData, testimonial_submit
from testimonials.errors import ApplicationError
from testimonials.models import CollectionForm

log = logging.getLogger(__name__)

ENTRY_FILE = "submission.json"
HELD = "held"
TEMPORARY = ".tmp-"
# SubmissionData fields kept as they are (media are files beside the JSON; `known` is never spooled).
_PLAIN = [f.name for f in fields(SubmissionData) if f.name not in ("media", "known", "consented_at")]
_REMEMBERED_FORMS = 256


class Spooled:
    """What the view gets instead of a stored row: the submission waits in the spool."""

    referral_code = None

    def __init__(self, key: str) -> None:
        self.key = key


def spool_dir() -> Path:
    return Path(settings.VOUCH_SPOOL_DIR)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _entry_name(key: str) -> str:
    # A digest of the key, never the key itself, names the folder: the key comes from a request.
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def submission_spool(*, form: CollectionForm, data: SubmissionData) -> Spooled:
    """Write a validated submission durably to the spool; raises OSError when even that is impossible.

    Idempotent on `data.submission_key`: a second call with the same key keeps the first entry.
    """
    if data.known is not None or not data.submission_key:
        raise ValueError("Only a page's own submission (with its key) is spooled.")
    root = spool_dir()
    root.mkdir(parents=True, exist_ok=True)
    final = root / _entry_name(data.submission_key)
    if final.exists():
        return Spooled(data.submission_key)
    work = root / f"{TEMPORARY}{uuid.uuid4().hex}"
    work.mkdir()
    try:
        media = []
        for n, upload in enumerate(data.media):
            name = f"media-{n}"
            upload.file.seek(0)
            with open(work / name, "wb") as out:
                shutil.copyfileobj(upload.file, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            media.append({"file": name, "kind": upload.kind, "name": upload.original_name, "type": upload.content_type})
        entry = {name: getattr(data, name) for name in _PLAIN}
        entry.update(
            version=1,
            brand_slug=form.brand.slug,
            form_slug=form.slug,
            form_id=form.id,
            # The customer agreed now, not when the database comes back.
            consented_at=(data.consented_at or timezone.now()).isoformat(),
            spooled_at=timezone.now().isoformat(),
            media=media,
        )
        with open(work / ENTRY_FILE, "w", encoding="utf-8") as out:
            json.dump(entry, out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        _fsync_dir(work)
        try:
            os.rename(work, final)  # atomic: the entry appears complete or not at all
        except OSError:
            if final.exists():  # a double submit won the race: one entry, as with the database
                shutil.rmtree(work, ignore_errors=True)
                return Spooled(data.submission_key)
            raise
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.warning(
        "Spooled submission %s for form %s while storage was unavailable.",
        data.submission_key,
        form.id,
        extra={"outage": "spool"},
    )
    return Spooled(data.submission_key)


def _entries() -> list[Path]:
    root = spool_dir()
    if not root.is_dir():
        return []
    return sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(TEMPORARY) and p.name != HELD),
        key=lambda p: p.stat().st_mtime,
    )


def pending_count() -> int:
    """Submissions accepted into the spool and not stored yet (for /readyz and metrics)."""
    return len(_entries())


def held_count() -> int:
    """Spooled submissions the service refused on replay, kept in held/ for an operator."""
    held = spool_dir() / HELD
    return sum(1 for p in held.iterdir() if p.is_dir()) if held.is_dir() else 0


def _load(entry: Path) -> tuple[CollectionForm | None, SubmissionData, list]:
    raw = json.loads((entry / ENTRY_FILE).read_text(encoding="utf-8"))
    form = CollectionForm.objects.select_related("brand").filter(id=raw["form_id"]).first()
    opened = [open(entry / m["file"], "rb") for m in raw["media"]]
    media = [
        MediaUpload(m["kind"], File(f, name=m["file"]), m["name"], m["type"])
        for m, f in zip(raw["media"], opened, strict=True)
    ]
    data = SubmissionData(
        **{name: raw[name] for name in _PLAIN if name in raw},
        consented_at=datetime.fromisoformat(raw["consented_at"]),
        media=media,
    )
    return form, data, opened


def _hold(entry: Path, reason: str) -> None:
    held = spool_dir() / HELD
    held.mkdir(exist_ok=True)
    (entry / "held-reason.txt").write_text(reason, encoding="utf-8")
    os.rename(entry, held / entry.name)
    _fsync_dir(held)
    log.error("Spooled submission %s could not be stored and is held for an operator: %s", entry.name, reason)


def spool_replay(*, limit: int = 500) -> dict[str, int]:
    """Store what the spool holds, oldest first, each exactly once; stop at the first outage. Safe anytime.

    Concurrent replays (beat and a start-up command) are safe: an entry is claimed by an exclusive
    lock on its folder, and the service is idempotent on the submission key.
    """
    import fcntl

    done = {"stored": 0, "held": 0, "left": 0}
    entries = _entries()
    for entry in entries[:limit]:
        try:
            lock = os.open(entry, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:  # another replay finished it
            continue
        try:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            if not (entry / ENTRY_FILE).exists():
                continue
            opened: list = []
            try:
                form, data, opened = _load(entry)
                if form is None:
                    raise ApplicationError("The form this was sent to no longer exists.")
                testimonial_submit(form=form, data=data)
            except ApplicationError as error:
                _hold(entry, error.message)
                done["held"] += 1
                continue
            except Exception as exc:
                if outages.is_infrastructure_error(exc):
                    log.warning("Spool replay paused: %s", exc, extra={"outage": outages.outage_kind(exc)})
                    break
                raise
            finally:
                for f in opened:
                    f.close()
            # Stored (or found stored: the key): only now does the spooled copy go.
            shutil.rmtree(entry)
            _fsync_dir(spool_dir())
            done["stored"] += 1
        finally:
            os.close(lock)
    done["left"] = pending_count()
    return done


# --------------------------------------------------------------------------- the form while the database is down
_forms: OrderedDict[tuple[str, str], tuple[float, CollectionForm]] = OrderedDict()
_forms_lock = threading.Lock()  # gunicorn's gthread workers serve requests on several threads


def form_remember(form: CollectionForm) -> None:
    """Keep the last copy of a public form this process loaded: served as is for
    VOUCH_PUBLIC_FORM_CACHE_SECONDS (form_fresh), and for as long as the database is down (form_remembered)."""
    key = (form.brand.slug, form.slug)
    with _forms_lock:
        _forms[key] = (time.monotonic(), form)
        _forms.move_to_end(key)
        while len(_forms) > _REMEMBERED_FORMS:
            _forms.popitem(last=False)


def form_fresh(*, brand_slug: str, form_slug: str) -> CollectionForm | None:
    """The copy form_remember() kept, if it is younger than VOUCH_PUBLIC_FORM_CACHE_SECONDS (0: never).

    A submit then costs no query for its form (a quarter of its CPU). A change to the brand or the form
    reaches every process within that many seconds, and this one at once (spool/subscriber.py).
    """
    found = _forms.get((brand_slug, form_slug))
    if found is None or time.monotonic() - found[0] >= settings.VOUCH_PUBLIC_FORM_CACHE_SECONDS:
        return None
    return found[1]


def forms_forget(*, brand_ids: set[int]) -> None:
    """Stop serving these brands' remembered forms as fresh; they stay the fallback for an outage."""
    with _forms_lock:
        for key, (_, form) in list(_forms.items()):
            if form.brand_id in brand_ids:
                _forms[key] = (float("-inf"), form)


def form_remembered(*, brand_slug: str, form_slug: str) -> CollectionForm | None:
    """The copy form_remember() kept, if any: the page and its submit work during a database outage."""
    found = _forms.get((brand_slug, form_slug))
    return found[1] if found else None
