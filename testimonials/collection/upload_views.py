"""Resumable uploads for the collection page (a video recorded in the browser, a large file).

A tus-like protocol kept small:
  POST  /c/<brand>/<form>/uploads/        {"token", "kind", "size", "name"} -> 201 {"id", "offset", "url", ...}
  GET   /c/<brand>/<form>/uploads/<id>/   -> {"offset", "complete", ...}  (where to resume)
  PATCH /c/<brand>/<form>/uploads/<id>/   body = bytes, header Upload-Offset -> {"offset", "complete"}
A retry after a dropped connection asks for the offset and continues from there, never from zero.
The finished file is checked by content before the customer presses Send.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from testimonials.collection import abuse
from testimonials.collection.fields import BY_NAME, mode_of
from testimonials.collection.uploads import (
    CHUNK_MAX_BYTES,
    MEDIA_KINDS,
    UploadNotFound,
    UploadOffsetMismatch,
    upload_session_append,
    upload_session_get,
    upload_session_start,
)
from testimonials.errors import ApplicationError
from testimonials.media.errors import MediaRejected
from testimonials.models import FieldMode
from testimonials.selectors import collection_form_get_public


def _error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _status(session, request: HttpRequest, brand_slug: str, form_slug: str, status: int = 200) -> JsonResponse:
    url = reverse("collect-upload", kwargs={"brand_slug": brand_slug, "form_slug": form_slug, "upload_id": session.id})
    response = JsonResponse({**session.public(), "url": url, "chunk_max": CHUNK_MAX_BYTES}, status=status)
    response.headers["Upload-Offset"] = str(session.offset)
    return response


@csrf_exempt  # cookie-free public endpoint; the signed form token proves the page came from us
@never_cache
@require_POST
def collect_upload_start(request: HttpRequest, brand_slug: str, form_slug: str) -> JsonResponse:
    form = collection_form_get_public(brand_slug=brand_slug, form_slug=form_slug)
    wait = abuse.rate_take(request, scope="upload", rate=_upload_rate())
    if wait is not None:
        response = _error("Too many uploads from your connection. Please try again later.", 429)
        response.headers["Retry-After"] = str(wait)
        return response
    response = _start(request, form, brand_slug, form_slug)
    if response.status_code != 201:
        abuse.rate_give_back(request, scope="upload")  # refused: not a use
    return response


def _start(request: HttpRequest, form, brand_slug: str, form_slug: str) -> JsonResponse:
    try:
        payload = json.loads(request.body or b"{}")
        kind, size, name = str(payload["kind"]), int(payload["size"]), str(payload.get("name", ""))
        token = str(payload.get("token", ""))
    except (ValueError, KeyError, TypeError):
        return _error("Malformed upload request.", 400)
    try:
        abuse.form_token_read(token, form_id=form.id)
    except abuse.TokenProblem as problem:
        return _error(problem.message, 403)
    if kind not in MEDIA_KINDS or mode_of(form, BY_NAME[kind]) == FieldMode.OFF:
        return _error("This form does not take this kind of file.", 400)
    try:
        session = upload_session_start(form_id=form.id, kind=kind, size=size, original_name=name)
    except ApplicationError as error:
        return _error(error.message, 413 if error.code == "too_big" else 400)
    return _status(session, request, brand_slug, form_slug, status=201)


def _upload_rate() -> str:
    return settings.UPLOAD_RATE_LIMIT


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "PATCH", "PUT"])
def collect_upload(request: HttpRequest, brand_slug: str, form_slug: str, upload_id: str) -> JsonResponse:
    form = collection_form_get_public(brand_slug=brand_slug, form_slug=form_slug)
    try:
        # Sessions belong to one form: another form's id (or brand's) is simply not found here.
        session = upload_session_get(upload_id, form_id=form.id)
    except UploadNotFound as error:
        return _error(error.message, 404)
    if request.method in ("GET", "HEAD"):
        return _status(session, request, brand_slug, form_slug)
    try:
        offset = int(request.headers.get("Upload-Offset", ""))
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return _error("Send Upload-Offset and Content-Length headers.", 400)
    try:
        # Read straight from the stream: request.body would buffer (and cap) the whole chunk.
        upload_session_append(session, offset=offset, stream=request, length=length)
    except UploadOffsetMismatch as mismatch:
        response = _error("Resume from the offset given.", 409, offset=mismatch.offset)
        response.headers["Upload-Offset"] = str(mismatch.offset)
        return response
    except MediaRejected as rejected:
        return _error(rejected.reason, 415)
    except ApplicationError as error:
        return _error(error.message, 413 if error.code in ("too_big", "chunk_too_big") else 400)
    return _status(session, request, brand_slug, form_slug)
