"""Outgoing HTTP to addresses a brand gave us (webhook endpoints, media URLs in an import), without SSRF.

A URL a brand types can point at the machine itself (127.0.0.1, the admin behind a proxy), at the
private network (10/8, 192.168/16, fd00::/8) or at a cloud metadata service (169.254.169.254).
The rules, each of which a test proves:
  - only https (plain http only to loopback, and only when loopback is allowed: tests);
  - the host is resolved ONCE; every address it resolves to must be public (`address_allowed`), and
    the connection goes to that very address: a DNS answer that changes between the check and the
    connect (DNS rebinding) cannot redirect it. TLS still verifies the certificate for the host name;
  - connect and read timeouts, and an overall deadline for the response;
  - the response body is read up to a cap and no further;
  - redirects are not followed for webhooks; `fetch()` follows a few, to the same host only, each to
    the address resolved first.
A pure library: it reads no settings; callers pass `allow_loopback` (VOUCH_OUTBOUND_ALLOW_LOOPBACK).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

USER_AGENT = "Vouch/1 (+https://github.com/vouch)"
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0


class OutboundRefused(ValueError):
    """This URL may not be called (a private address, a bad scheme, a redirect elsewhere). `message` says why."""

    def __init__(self, message: str, *, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


class OutboundFailed(OSError):
    """The call was allowed but did not complete (DNS failure, refused, timed out, TLS, too large)."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent in the request line
    address: str  # the one IP address this call connects to

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes  # at most `max_bytes`
    truncated: bool  # the body went on past the cap
    elapsed: float  # seconds, connect to last byte read
    address: str
    redirects: list[str] = field(default_factory=list)


def address_allowed(address: str, *, allow_loopback: bool = False) -> bool:
    """Whether a connection to this IP is allowed: public unicast only (loopback only when allowed)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None:
        ip = ip.sixtofour  # 2002:7f00:1::/48 tunnels to 127.0.0.1
    if ip.is_loopback:
        return allow_loopback
    # is_global leaves out private, link-local (the 169.254.169.254 metadata service), shared
    # (100.64/10), reserved, documentation and unspecified ranges; multicast is never a web server.
    return ip.is_global and not ip.is_multicast


def parse(url: str, *, allow_loopback: bool = False) -> tuple[str, str, int, str]:
    """(scheme, host, port, target) of a URL we may call, or OutboundRefused saying what is wrong with it."""
    if not isinstance(url, str) or not url or len(url) > 2000 or any(ord(c) < 33 for c in url):
        raise OutboundRefused("Give a full URL without spaces, like https://example.com/hooks/vouch.", code="url")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused("The port in this URL is not a number between 1 and 65535.", code="url") from exc
    host = (parts.hostname or "").rstrip(".")
    if scheme not in ("https", "http") or not host:
        raise OutboundRefused("Use an https:// URL with a host name.", code="scheme")
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused("Put no user name or password in the URL; Vouch signs its requests.", code="url")
    if scheme == "http" and not allow_loopback:
        raise OutboundRefused("Use https://: Vouch does not send testimonials over plain http.", code="scheme")
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return scheme, host, port or (443 if scheme == "https" else 80), target


def resolve(url: str, *, allow_loopback: bool = False, resolver=socket.getaddrinfo) -> Destination:
    """Check a URL and resolve its host once: every address must be allowed; the first is the one to use."""
    scheme, host, port, target = parse(url, allow_loopback=allow_loopback)
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundFailed(f"The host name {host!r} does not resolve.") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise OutboundFailed(f"The host name {host!r} does not resolve.")
    # One private answer among public ones is refused too: the resolver chooses which one a later
    # connection would use, and we connect only to what we checked.
    refused = [a for a in addresses if not address_allowed(a, allow_loopback=allow_loopback)]
    if refused:
        raise OutboundRefused(
            f"{host} points at a private, local or reserved address ({refused[0]}); Vouch only calls public addresses.",
            code="private_address",
        )
    if scheme == "http" and not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses):
        raise OutboundRefused("Use https://: Vouch does not send testimonials over plain http.", code="scheme")
    return Destination(scheme=scheme, host=host, port=port, target=target, address=addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the resolved address, whatever the host name resolves to now; Host: stays the name."""

    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._address = destination.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, destination: Destination, timeout: float, context: ssl.SSLContext):
        super().__init__(destination.host, destination.port, timeout=timeout, context=context)
        self._address = destination.address
        self._tls = context

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # SNI and certificate verification against the host name, not the address.
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def _connection(destination: Destination, timeout: float) -> http.client.HTTPConnection:
    if destination.scheme == "https":
        return _PinnedHTTPSConnection(destination, timeout, ssl.create_default_context())
    return _PinnedHTTPConnection(destination, timeout)


def send(
    destination: Destination,
    *,
    method: str = "POST",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    max_bytes: int = 64 * 1024,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
) -> Response:
    """One request to an already resolved destination; never follows a redirect.

    Reads at most `max_bytes` of the body (`truncated` says whether there was more). Raises
    OutboundFailed when the connection, TLS or the deadline fails.
    """
    started = time.monotonic()
    deadline = started + connect_timeout + read_timeout
    connection = _connection(destination, connect_timeout)
    all_headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Connection": "close", **(headers or {})}
    try:
        connection.connect()
        connection.sock.settimeout(read_timeout)
        connection.request(method, destination.target, body=body or None, headers=all_headers)
        reply = connection.getresponse()
        chunks: list[bytes] = []
        size = 0
        truncated = False
        while True:
            if time.monotonic() > deadline:
                raise OutboundFailed(f"No complete answer within {connect_timeout + read_timeout:.0f} seconds.")
            chunk = reply.read1(min(65536, max_bytes - size + 1)) if size <= max_bytes else b""
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                truncated = True
                break
        body_read = b"".join(chunks)[:max_bytes]
        return Response(
            status=reply.status,
            headers={k.lower(): v for k, v in reply.getheaders()},
            body=body_read,
            truncated=truncated,
            elapsed=time.monotonic() - started,
            address=destination.address,
        )
    except OutboundFailed:
        raise
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError | socket.timeout) else f"{type(exc).__name__}: {exc}"
        raise OutboundFailed(f"Could not reach {destination.host}: {reason}"[:500]) from exc
    finally:
        connection.close()


def fetch(
    url: str,
    *,
    allow_loopback: bool = False,
    max_bytes: int,
    max_redirects: int = 3,
    resolver=socket.getaddrinfo,
) -> Response:
    """GET a URL (a photo an import lists): redirects to the same host only, all to the address resolved
    first; OutboundFailed when the body is over `max_bytes` or the answer is not 200."""
    destination = resolve(url, allow_loopback=allow_loopback, resolver=resolver)
    followed: list[str] = []
    current = url
    for _ in range(max_redirects + 1):
        response = send(destination, method="GET", max_bytes=max_bytes)
        if response.status in (301, 302, 303, 307, 308) and response.headers.get("location"):
            current = urljoin(current, response.headers["location"])
            scheme, host, port, target = parse(current, allow_loopback=allow_loopback)
            if (scheme, host, port) != destination.origin:
                raise OutboundRefused("The file redirects to another host; Vouch does not follow it.", code="redirect")
            destination = Destination(scheme, host, port, target, destination.address)
            followed.append(current)
            continue
        if response.status != 200:
            raise OutboundFailed(f"The server answered {response.status} for {url[:200]}.")
        if response.truncated:
            raise OutboundFailed(f"The file is larger than {max_bytes // (1024 * 1024) or 1} MB.")
        response.redirects = followed
        return response
    raise OutboundFailed("Too many redirects.")
