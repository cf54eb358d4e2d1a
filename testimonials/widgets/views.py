"""The public widget pages: the embed snippet, the published files (for the embedded default) and
the hosted wall page.

The embed snippet and the published widget files:

In production nginx (or a CDN) serves both straight from disk with the same headers
(docs/widgets.md), so a page view never reaches Python. Here no view touches the database:
each request is one file read.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from testimonials import selectors
from testimonials.widgets import files
from testimonials.widgets.render import widget_render
from testimonials.widgets.services import widget_report_blocked

EMBED_JS = Path(settings.BASE_DIR) / "static" / "widget" / "embed.js"
_NAME = re.compile(r"^(index\.json|[0-9a-f]{16}\.(html|json))$")
_PUBLIC_ID = re.compile(r"^[\w-]{4,40}$")

# The document's own rules; frame-ancestors is added per widget. Scripts only from Vouch's
# origin (frame.js): testimonial text can never run as script even if markup slipped through.
# connect-src 'self': frame.js's analytics beacons go to Vouch's own origin only.
DOCUMENT_CSP = (
    "default-src 'none'; img-src 'self' https: data:; media-src 'self' https:; style-src 'unsafe-inline'; "
    "connect-src 'self'; script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
)
POINTER_MAX_AGE = 5  # seconds: how long a visitor may see the previous version after a publish
IMMUTABLE = "public, max-age=31536000, immutable"


@cache
def _embed_js() -> bytes:
    return EMBED_JS.read_bytes()


@require_safe
def embed_script(request):
    """/embed.js: the snippet brands paste. Stable URL, so cached for an hour rather than forever."""
    response = HttpResponse(_embed_js(), content_type="text/javascript; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def document_csp(ancestors: str) -> str:
    return DOCUMENT_CSP.format(ancestors=ancestors)


@require_safe
@xframe_options_exempt
def widget_file(request, public_id: str, name: str):
    """One published file of a widget. No cookies are read or set, and CORS is anonymous only."""
    if not _PUBLIC_ID.match(public_id) or not _NAME.match(name):
        raise Http404
    base = files.folder(public_id)
    content = files.read(f"{base}/{name}")
    if content is None:
        raise Http404
    if name.endswith(".html"):
        ancestors = (files.read(f"{base}/{files.FRAME_ANCESTORS}") or b"'none'").decode()
        response = HttpResponse(content, content_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = document_csp(ancestors)
        response.headers["Referrer-Policy"] = "no-referrer"
    else:
        response = HttpResponse(content, content_type="application/json")
        response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={POINTER_MAX_AGE}" if name == files.POINTER else IMMUTABLE
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@require_safe
def widget_wall(request, public_id: str):
    """The hosted page of a widget, in its layout, paginated: shareable, and the <noscript> fallback.

    Published as static pages with the widget (a view is one file read). A widget not published yet
    (its first publish is on its way) is rendered once from the database instead.
    """
    if not _PUBLIC_ID.match(public_id):
        raise Http404
    raw = request.GET.get("page", "1")
    page = int(raw) if raw.isdigit() else 0
    pointer = files.read_pointer(public_id)
    content = None
    if pointer and pointer.get("pages"):
        if not 1 <= page <= pointer["pages"]:
            raise Http404
        content = files.read(f"{files.folder(public_id)}/{files.page_name(pointer['v'], page)}")
    if content is None:
        pages = widget_render(selectors.widget_get_public(public_id=public_id)).pages
        if not 1 <= page <= len(pages):
            raise Http404
        content = pages[page - 1].encode()
    response = HttpResponse(content, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@csrf_exempt  # no cookie is read: the browser-set Origin header is the whole report
@require_POST
def widget_blocked(request, public_id: str):
    """The embed snippet, on a site not among the widget's allowed sites, says so: the admin shows the brand
    "blocked on <origin>". Always 204, whatever happened, so it tells a caller nothing."""
    origin = request.headers.get("Origin", "")
    if _PUBLIC_ID.match(public_id) and origin and origin != "null":
        widget_report_blocked(public_id=public_id, origin=origin)
    response = HttpResponse(status=204)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
