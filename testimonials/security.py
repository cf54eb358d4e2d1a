"""Security headers per surface. A view that needs other rules (an embeddable form, a widget
document framed by a brand's site) sets its own Content-Security-Policy and this leaves it alone."""

from __future__ import annotations

from collections.abc import Iterable


def page_csp(ancestors: str = "'none'") -> str:
    """The policy of Vouch's own pages; `ancestors` lists who may frame them (nobody by default)."""
    return (
        "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
        f"script-src 'self'; connect-src 'self'; frame-ancestors {ancestors}; base-uri 'none'; form-action 'self'; "
        "object-src 'none'"
    )


PAGE_CSP = page_csp()
# Public media: even if a file slipped through as HTML, it cannot run script or be sniffed.
MEDIA_CSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"


def frame_ancestors(origins: Iterable[str]) -> str:
    """A CSP frame-ancestors source list from allowed origins; 'none' when there are none."""
    cleaned = [o for o in (origin.strip().rstrip("/") for origin in origins) if _is_origin(o)]
    return " ".join(cleaned) if cleaned else "'none'"


def _is_origin(value: str) -> bool:
    # Only scheme://host[:port]; anything with spaces, quotes or semicolons could inject directives.
    if not value.startswith(("https://", "http://")):
        return False
    rest = value.split("://", 1)[1]
    return bool(rest) and all(ch.isalnum() or ch in ".-:[]*" for ch in rest)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        content_type = response.headers.get("Content-Type", "")
        if content_type.startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        return response
