"""Public renditions, for the embedded default. In production a web server or a CDN serves
MEDIA_ROOT (or the S3 bucket) directly with the same headers; originals are never reachable."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import FileResponse, HttpResponse
from django.views.decorators.http import require_safe
from django.views.static import serve

from testimonials.security import MEDIA_CSP

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# A range answer may be shorter than asked (Content-Range says so); players then ask for the rest.
# This bounds the memory one request can take.
MAX_RANGE_BYTES = 4 * 1024 * 1024


@require_safe
def serve_public_media(request, path: str):
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    if isinstance(response, FileResponse) and request.headers.get("Range"):
        response = _partial(response, request.headers["Range"])
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = MEDIA_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _partial(full: FileResponse, header: str) -> HttpResponse:
    """A single byte range (RFC 9110): Safari and iOS play MP4 only when ranges work."""
    size = int(full.headers["Content-Length"])
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return full  # a malformed or multi-range header: the whole file is a valid answer
    first, last = match.groups()
    if first == "":  # the last N bytes
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    end = min(end, start + MAX_RANGE_BYTES - 1)
    if start >= size or start > end:
        full.close()
        refused = HttpResponse(status=416)
        refused.headers["Content-Range"] = f"bytes */{size}"
        return refused
    stream = full.file_to_stream
    stream.seek(start)
    body = stream.read(end - start + 1)
    full.close()
    response = HttpResponse(body, status=206, content_type=full.headers["Content-Type"])
    response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    response.headers["Last-Modified"] = full.headers.get("Last-Modified", "")
    return response
