"""Files arriving from customers: byte limits enforced while the body streams in, and resumable uploads.

Django caps no file size (DATA_UPLOAD_MAX_MEMORY_SIZE leaves files out), so `LimitedUploadHandler`
counts every byte in `receive_data_chunk`. A file over its limit is skipped (SkipFile) so the
text fields around it still arrive and the customer keeps what they typed; a body over the
request's total budget stops the upload altogether (StopUpload).

Resumable uploads (videos from the browser, files kept across a validation error) live on local
disk under UPLOAD_SESSION_DIR as `<id>.part` plus `<id>.json`; the id is unguessable and each
session belongs to exactly one collection form.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload

from testimonials.collection.fields import MEDIA_FIELDS
from testimonials.errors import ApplicationError
from testimonials.media.errors import MediaRejected
from testimonials.media.sniff import sniff

MEDIA_KINDS = tuple(field.name for field in MEDIA_FIELDS)
EXPECT = {"avatar": "image", "photo": "image", "video": "video"}
# Room for the text fields and multipart framing around the files of one submission.
FORM_OVERHEAD_BYTES = 512 * 1024
CHUNK_MAX_BYTES = 8 * 1024 * 1024
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{20,40}$")


def clean_file_name(name: str) -> str:
    """A customer's file name as we keep it (shown to moderators): its last part, no control characters
    (PostgreSQL refuses NUL in text), at most 200 characters."""
    base = os.path.basename(str(name or "").replace("\\", "/"))
    return "".join(ch for ch in base if ch.isprintable())[:200]


def kind_limit(kind: str) -> int:
    return settings.UPLOAD_MAX_VIDEO_BYTES if kind == "video" else settings.UPLOAD_MAX_PHOTO_BYTES


def human_size(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024)} KB"


def too_big_message(kind: str) -> str:
    return f"This {kind} is larger than {human_size(kind_limit(kind))}. Please choose a smaller file."


# --------------------------------------------------------------------------- multipart


class LimitedUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: counts real bytes per file and per request.

    A view declares what it takes by setting `request.upload_limits = {"photo": bytes, ...}`
    before reading request.POST; files in other fields are skipped. Views that declare nothing
    (the admin) get one photo-sized budget per file. Refusals are left in
    `request.upload_refusals` ({field: message}) for the view to show next to the field.
    """

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):  # noqa: N803
        # Never raise here: StopUpload from handle_raw_input becomes a 500.
        self.limits: dict[str, int] | None = getattr(self.request, "upload_limits", None)
        self.refusals: dict[str, str] = {}
        self.request.upload_refusals = self.refusals
        self.seen: set[str] = set()
        self.total = 0
        if self.limits is None:
            self.budget = settings.UPLOAD_MAX_PHOTO_BYTES * settings.DATA_UPLOAD_MAX_NUMBER_FILES
        else:
            self.budget = sum(self.limits.values()) + FORM_OVERHEAD_BYTES
        return None

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        self.count = 0
        if self.limits is None:
            self.limit = settings.UPLOAD_MAX_PHOTO_BYTES
        elif field_name not in self.limits:
            self.refusals[field_name] = "This form does not take a file here."
            raise SkipFile
        else:
            self.limit = self.limits[field_name]
        if field_name in self.seen:
            self.refusals[field_name] = "Please send one file here."
            raise SkipFile
        self.seen.add(field_name)

    def receive_data_chunk(self, raw_data, start):
        self.count += len(raw_data)
        self.total += len(raw_data)
        if self.total > self.budget:
            self.refusals["__all__"] = "Your files are too large to send together. Please choose smaller ones."
            raise StopUpload(connection_reset=True)
        if self.count > self.limit:
            self.refusals[self.field_name] = too_big_message(self.field_name if self.limits else "file")
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


# --------------------------------------------------------------------------- resumable sessions


class UploadNotFound(ApplicationError):
    def __init__(self):
        super().__init__("This upload has expired. Please add your file again.", code="upload_not_found")


class UploadOffsetMismatch(ApplicationError):
    """The client's idea of how much arrived is wrong; it resumes from `offset`."""

    def __init__(self, offset: int):
        super().__init__("The upload continues from another position.", code="offset_mismatch")
        self.offset = offset


@dataclass
class UploadSession:
    id: str
    form_id: int
    kind: str
    size: int
    original_name: str = ""
    content_type: str = ""  # set once the complete file was sniffed
    created_at: float = 0.0

    @property
    def part_path(self) -> Path:
        return session_dir() / f"{self.id}.part"

    @property
    def meta_path(self) -> Path:
        return session_dir() / f"{self.id}.json"

    @property
    def offset(self) -> int:
        try:
            return self.part_path.stat().st_size
        except FileNotFoundError:
            return 0

    @property
    def complete(self) -> bool:
        return bool(self.content_type) and self.offset == self.size

    def public(self) -> dict:
        return {"id": self.id, "kind": self.kind, "size": self.size, "offset": self.offset, "complete": self.complete}


def session_dir() -> Path:
    configured = getattr(settings, "UPLOAD_SESSION_DIR", None)
    path = Path(configured) if configured else Path(settings.PRIVATE_MEDIA_ROOT) / "upload-sessions"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _save_meta(session: UploadSession) -> None:
    tmp = session.meta_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(session)))
    os.replace(tmp, session.meta_path)


def upload_session_start(*, form_id: int, kind: str, size: int, original_name: str = "") -> UploadSession:
    """Open a resumable upload of `size` bytes for one form; refuses sizes over the kind's limit."""
    if kind not in MEDIA_KINDS:
        raise ApplicationError("Unknown kind of file.", field=kind)
    if size <= 0:
        raise ApplicationError("The file is empty.", field=kind)
    if size > kind_limit(kind):
        raise ApplicationError(too_big_message(kind), field=kind, code="too_big")
    session = UploadSession(
        id=secrets.token_urlsafe(18),
        form_id=form_id,
        kind=kind,
        size=size,
        original_name=clean_file_name(original_name),
        created_at=time.time(),
    )
    session.part_path.touch()
    _save_meta(session)
    return session


def upload_session_get(upload_id: str, *, form_id: int, kind: str | None = None) -> UploadSession:
    """A session of this form (and kind); UploadNotFound for unknown ids and other forms' sessions."""
    if not _ID_RE.match(upload_id or ""):
        raise UploadNotFound
    try:
        session = UploadSession(**json.loads((session_dir() / f"{upload_id}.json").read_text()))
    except (FileNotFoundError, ValueError, TypeError) as exc:
        raise UploadNotFound from exc
    if session.form_id != form_id or (kind is not None and session.kind != kind):
        raise UploadNotFound
    return session


def upload_session_append(session: UploadSession, *, offset: int, stream: IO[bytes], length: int) -> UploadSession:
    """Append one chunk at `offset`. Counts real bytes; never writes past the declared size.

    Raises UploadOffsetMismatch when `offset` is not where the file ends (a retried chunk that
    did arrive, or a lost one), and MediaRejected when the completed file is not what it claims.
    """
    if session.complete:
        return session
    if length < 0 or length > CHUNK_MAX_BYTES:
        raise ApplicationError(f"Send chunks of at most {human_size(CHUNK_MAX_BYTES)}.", code="chunk_too_big")
    with open(session.part_path, "ab") as out:
        # One writer at a time per session: two retries of the same chunk must not both append.
        fcntl.flock(out.fileno(), fcntl.LOCK_EX)
        current = os.fstat(out.fileno()).st_size
        if offset != current:
            raise UploadOffsetMismatch(current)
        if current + length > session.size:
            # Over the announced size, hence possibly over the limit: drop everything received.
            upload_session_delete(session)
            raise ApplicationError(
                "This upload is larger than it announced. Please add your file again.", code="too_big"
            )
        written = 0
        while written < length:
            piece = stream.read(min(64 * 1024, length - written))
            if not piece:
                break
            out.write(piece)
            written += len(piece)
        out.flush()
    if session.offset == session.size:
        _finish(session)
    return session


def _finish(session: UploadSession) -> None:
    try:
        found = sniff(session.part_path, expect=EXPECT[session.kind])
    except MediaRejected as exc:
        upload_session_delete(session)
        exc.field = session.kind
        raise
    session.content_type = found.content_type
    _save_meta(session)


def upload_session_from_file(
    *, form_id: int, kind: str, file: File, content_type: str, original_name: str = ""
) -> UploadSession:
    """Keep an accepted multipart file as a finished session, so a form shown again still has it."""
    session = UploadSession(
        id=secrets.token_urlsafe(18),
        form_id=form_id,
        kind=kind,
        size=file.size or 0,
        original_name=clean_file_name(original_name or getattr(file, "name", "")),
        content_type=content_type,
        created_at=time.time(),
    )
    file.seek(0)
    with open(session.part_path, "wb") as out:
        shutil.copyfileobj(file, out)
    file.seek(0)
    session.size = session.offset
    _save_meta(session)
    return session


def upload_session_open(session: UploadSession) -> File:
    return File(open(session.part_path, "rb"), name=f"{session.id}.upload")  # closed by the caller


def upload_session_delete(session: UploadSession) -> None:
    for path in (session.part_path, session.meta_path):
        path.unlink(missing_ok=True)


def upload_sessions_clean(*, older_than_seconds: int = 24 * 3600) -> int:
    """Delete sessions nobody finished or attached (collection/tasks.py, on beat; safe anytime). Returns how many."""
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in session_dir().iterdir():
        if path.suffix in (".part", ".json", ".tmp") and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += path.suffix == ".json"
    return removed
