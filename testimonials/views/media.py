"""Public renditions, for the embedded default. In production a web server or a CDN serves
MEDIA_ROOT (or the S3 bucket) directly with the same headers; originals are never reachable."""

from django.conf import settings
from django.views.decorators.http import require_safe
from django.views.static import serve

from testimonials.security import MEDIA_CSP


@require_safe
def serve_public_media(request, path: str):
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = MEDIA_CSP
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
