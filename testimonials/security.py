"""Security headers per surface. A view that needs other rules (an embeddable form, a widget
document framed by a brand's site) sets its own Content-Security-Policy and this leaves it alone."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit


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


class OriginError(ValueError):
    """A line that is not a site address, with why, in words a brand can act on."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _host(raw: str) -> str:
    """The host in the form browsers compare: lower case, punycode, IPv6 in brackets."""
    if raw.startswith("[") and raw.endswith("]"):
        try:
            return f"[{ipaddress.IPv6Address(raw[1:-1]).compressed}]"
        except ValueError:
            raise OriginError(f"{raw} is not an IPv6 address.") from None
    wildcard = raw.startswith("*.")
    name = raw[2:] if wildcard else raw
    if "*" in name:
        raise OriginError("A star only works at the start, for every subdomain: *.example.com.")
    try:
        name = name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise OriginError(f"{raw} is not a valid site name.") from None
    labels = name.split(".")
    if not name or any(not label or len(label) > 63 for label in labels):
        raise OriginError(f"{raw} is not a valid site name.")
    if not all(ch.isalnum() or ch == "-" for label in labels for ch in label):
        raise OriginError(f"{raw} has characters a site name cannot have.")
    if wildcard and len(labels) < 2:
        raise OriginError("A star needs a domain after it: *.example.com, not *.com.")
    return f"*.{name}" if wildcard else name


def origin_normalise(line: str) -> str:
    """A site address as a brand types it ("shop.example.com", "127.0.0.2:8080", "https://x.com/page")
    as the origin browsers compare ("https://shop.example.com"). Raises OriginError saying why not.

    Without a scheme a public site is https and a local one (localhost, a loopback or private address)
    http, as they are served. The page path, query and default port are dropped: only the site counts.
    """
    text = line.strip()
    if not text:
        raise OriginError("Empty line.")
    if any(ch.isspace() for ch in text) or any(ch in text for ch in "\"'<>;,"):
        raise OriginError(f"{text!r} is not a site address: give one site per line, like https://shop.example.com.")
    if "://" not in text:
        bare = text.split("/", 1)[0]
        if bare.startswith("[") and "]" in bare:
            host, rest = bare[: bare.index("]") + 1], bare[bare.index("]") + 1 :]
            colon, port = rest[:1], rest[1:]
        else:
            host, colon, port = bare.rpartition(":") if bare.count(":") == 1 else (bare, "", "")
        if colon and not port.isdigit():
            raise OriginError(f"{text} is not a site address: give one like https://shop.example.com.")
        text = ("http://" if _is_local(host.lower()) else "https://") + text
    scheme, _, rest = text.partition("://")
    scheme = scheme.lower()
    if scheme not in ("http", "https"):
        raise OriginError(f"Only http:// and https:// sites can show a widget, not {scheme}://.")
    try:
        parts = urlsplit(f"{scheme}://{rest}")
        port = parts.port
    except ValueError:
        raise OriginError(f"{line.strip()}: the port must be a number from 1 to 65535.") from None
    if parts.username is not None or parts.password is not None:
        raise OriginError("A site address has no user name or password in it.")
    netloc = parts.netloc.rsplit("@", 1)[-1]
    raw_host = netloc[: netloc.rindex("]") + 1] if netloc.startswith("[") else netloc.split(":", 1)[0]
    if not raw_host:
        raise OriginError(f"{line.strip()} has no site name.")
    if port == 0:
        raise OriginError(f"{line.strip()}: the port must be a number from 1 to 65535.")
    host = _host(raw_host)
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def origins_from_lines(text: str) -> tuple[list[str], list[str]]:
    """Each non-empty line as an origin, in order and without repeats, and a message per refused line."""
    origins: list[str] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            origin = origin_normalise(line)
        except OriginError as error:
            problems.append(f"Line {number}: {error.message}")
            continue
        if origin not in origins:
            origins.append(origin)
    return origins, problems


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
