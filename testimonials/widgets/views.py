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
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from testimonials import selectors
from testimonials.widgets import files
from testimonials.widgets.render import document_context, is_curated, widget_data
from testimonials.widgets.schema import jsonld_script_text

EMBED_JS = Path(settings.BASE_DIR) / "static" / "widget" / "embed.js"
_NAME = re.compile(r"^(index\.json|[0-9a-f]{16}\.(html|json))$")
_PUBLIC_ID = re.compile(r"^[\w-]{4,40}$")

# The document's own rules; frame-ancestors is added per widget. Scripts only from Vouch's
# origin (frame.js): testimonial text can never run as script even if markup slipped through.
DOCUMENT_CSP = (
    "default-src 'none'; img-src 'self' https: data:; media-src 'self' https:; style-src 'unsafe-inline'; "
    "script-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
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
    """The hosted wall page of a widget: shareable, server-rendered, and the <noscript> fallback."""
    widget = selectors.widget_get_public(public_id=public_id)
    data = widget_data(widget)
    context = document_context(data, hosted=True)
    context["w"]["curated"] = is_curated(widget)  # the page lists the selection, whatever the widget's layout
    context["jsonld"] = jsonld_script_text(data["jsonld"]) if data["jsonld"] else ""
    response = render(request, "testimonials/widget/wall.html", context)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
