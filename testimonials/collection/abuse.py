"""Anti-abuse for public writes: client IPs, rate limits, the signed form token, bot traps, captcha hook.

None of this needs cookies or a session: the collection form can be framed on a brand's site,
where browsers drop third-party cookies, so every check works from the request alone.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import time
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core import signing
from django.core.cache import cache, caches
from django.core.cache.backends.base import BaseCache
from django.http import HttpRequest
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

TOKEN_SALT = "vouch.collect.form-token"
# A page left open over a weekend still submits; older tokens are refused with a fresh one.
TOKEN_MAX_AGE_SECONDS = 3 * 24 * 3600
HONEYPOT_FIELD = "website"

_RATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# --------------------------------------------------------------------------- client IP


def client_ip(request: HttpRequest) -> str:
    """The client's address. X-Forwarded-For is read only behind TRUSTED_PROXY_COUNT proxies.

    Each trusted proxy appends the address it saw, so the client is the entry that many places
    from the right; anything further left was written by the client and may be forged.
    """
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - a key, not a bind address
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote  # fewer hops than configured: the header is not what the proxies wrote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def ip_group(ip: str) -> str:
    """The unit a rate limit counts: one IPv4 address, or one IPv6 /64 (what one customer line gets)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "invalid"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


# --------------------------------------------------------------------------- rate limit


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def parse_rate(value: str) -> Rate | None:
    """ "10/h" -> Rate(10, 3600); "0", "off" or "" -> None (no limit, e.g. for benchmarks)."""
    value = (value or "").strip().lower()
    if value in ("", "0", "off", "none"):
        return None
    try:
        count_text, period = value.split("/", 1)
        count = int(count_text)
        digits = period[:-1] or "1"
        seconds = int(digits) * _RATE_UNITS[period[-1]]
    except (ValueError, KeyError, IndexError) as exc:
        raise ValueError(f"A rate looks like 10/h or 5/10m, not {value!r}.") from exc
    if count <= 0:
        return None
    return Rate(count, seconds)


def _rate_key(scope: str, group: str, rate: Rate) -> str:
    window = int(time.time()) // rate.seconds
    return f"vouch:rl:{scope}:{group}:{window}"


def rate_take(request: HttpRequest, *, scope: str, rate: str | None = None) -> int | None:
    """Take one use of `scope`'s budget for this client, counting first: seconds to wait when it is
    used up (the use is given back), else None.

    Counting first with an atomic add/incr, then checking, is what makes the limit hold under
    parallel requests: checking first and counting at the end let 30 parallel submits from one
    address store up to 29 against a limit of 10. A refusal that should not cost a use (a form shown
    again for a mistake) calls rate_give_back.
    """
    parsed = parse_rate(settings.SUBMIT_RATE_LIMIT if rate is None else rate)
    if parsed is None:
        return None
    key = _rate_key(scope, ip_group(client_ip(request)), parsed)
    timeout = parsed.seconds + 5
    count = getattr(caches["default"], "count", None)
    if count is not None:  # the Redis cache (resilient_cache.py): one atomic round trip
        used = count(key, 1, timeout)
    else:
        used = 1 if cache.add(key, 1, timeout=timeout) else _rate_add(key, 1, timeout)
        if used is None:  # expired between add and incr
            used = 1 if cache.add(key, 1, timeout=timeout) else (_rate_add(key, 1, timeout) or 1)
    if used <= parsed.count:
        request._vouch_rate_taken = {**getattr(request, "_vouch_rate_taken", {}), scope: (key, timeout)}
        return None
    _rate_add(key, -1, timeout)
    return parsed.seconds - int(time.time()) % parsed.seconds or 1


def rate_give_back(request: HttpRequest, *, scope: str) -> None:
    """Give back the use rate_take counted for this request (its submission was not accepted)."""
    taken = getattr(request, "_vouch_rate_taken", {}).pop(scope, None)
    if taken is not None:
        _rate_add(*taken[:1], -1, taken[1])


def _rate_add(key: str, delta: int, timeout: int) -> int | None:
    """The counter after adding `delta`, or None when there is none (a new window, or expired)."""
    if type(caches["default"]).incr is BaseCache.incr:
        # The generic incr (the database cache) is get + set with the *default* timeout, which cut an
        # hour's window to five minutes after each count: the same two calls, keeping the window.
        # Not atomic: production runs the Redis cache (CACHE_URL), whose incr is.
        used = cache.get(key)
        if used is None:
            return None
        cache.set(key, used + delta, timeout=timeout)
        return used + delta
    try:
        return cache.incr(key, delta)  # Redis, memcached, local memory: atomic, and the expiry is kept
    except ValueError:
        return None


# --------------------------------------------------------------------------- form token


@dataclass(frozen=True)
class FormToken:
    form_id: int
    nonce: str
    issued_at: float

    @property
    def submission_key(self) -> str:
        """The idempotency key: the same page sent twice stores one testimonial."""
        return f"form:{self.form_id}:{self.nonce}"


class TokenProblem(Exception):
    """The token is missing, forged, for another form, expired, or the page was sent too fast."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def form_token_issue(*, form_id: int, nonce: str | None = None, now: float | None = None) -> str:
    issued = now if now is not None else time.time()
    payload = {"f": form_id, "n": nonce or secrets.token_urlsafe(16), "t": round(issued, 3)}
    return signing.dumps(payload, salt=TOKEN_SALT, compress=False)


def form_token_read(token: str, *, form_id: int) -> FormToken:
    """Decode a token for this form, or raise TokenProblem. Does not check the fill time."""
    try:
        payload = signing.loads(token or "", salt=TOKEN_SALT)
        parsed = FormToken(int(payload["f"]), str(payload["n"])[:40], float(payload["t"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise TokenProblem(
            _("This page could not be verified. Please check your answers and send them again."), code="bad_token"
        ) from exc
    if parsed.form_id != form_id:
        raise TokenProblem(_("This page belongs to another form. Please send it again from here."), code="wrong_form")
    if time.time() - parsed.issued_at > TOKEN_MAX_AGE_SECONDS:
        raise TokenProblem(
            _("This page was open for a long time, so we refreshed it. Your answers are still here: send them again."),
            code="expired",
        )
    return parsed


def form_token_check_fill_time(token: FormToken) -> None:
    """People take a few seconds to rate and write; scripts post at once."""
    if time.time() - token.issued_at < settings.SUBMIT_MIN_SECONDS:
        raise TokenProblem(
            _("That was very fast! Please take a moment to check your testimonial, then send it."), code="too_fast"
        )


def honeypot_filled(data) -> bool:
    """The hidden field people never see; many bots fill every input they find."""
    return bool((data.get(HONEYPOT_FIELD) or "").strip())


# --------------------------------------------------------------------------- captcha / proof of work


class CaptchaUnavailable(Exception):
    """The verifier could not answer (provider down). The submission is kept but held for a person."""


class CaptchaVerifier(Protocol):
    """Plugged in with CAPTCHA_VERIFIER = "package.module.ClassName" (off when empty).

    `template` (optional) is rendered inside the form, e.g. a provider's widget or a
    proof-of-work script; `verify` returns False for a failed challenge and raises
    CaptchaUnavailable when it cannot tell.
    """

    template: str

    def verify(self, request: HttpRequest) -> bool: ...


class ProofOfWork:
    """A self-hosted challenge, no third party: the browser must find `pow` such that
    sha256(token + ":" + pow) starts with `bits` zero bits (about 65,000 tries for 16 bits, a second
    or two on a phone; a spammer pays that for every single page). Needs JavaScript.

    Enable with CAPTCHA_VERIFIER=testimonials.collection.abuse.ProofOfWork.
    """

    template = "testimonials/collect/_pow.html"
    bits = 16

    def verify(self, request: HttpRequest) -> bool:
        token, answer = request.POST.get("token", ""), request.POST.get("pow", "")
        if not answer or len(answer) > 32:
            return False
        digest = hashlib.sha256(f"{token}:{answer}".encode()).digest()
        return int.from_bytes(digest, "big") >> (256 - self.bits) == 0


def captcha_verifier() -> CaptchaVerifier | None:
    path = settings.CAPTCHA_VERIFIER
    return import_string(path)() if path else None
