"""The beacon endpoints. No database read or write per request: the widget's facts come from a small
in-process cache, the salt from keys.current_salt(), and an accepted batch goes to the durable buffer.

- POST /widgets/<id>/events: a batch of events (frame.js from the widget document, embed.js from the
  host page for conversions and share-link arrivals). 204 once buffered.
- POST /widgets/<id>/hello: the loader's one request for a widget with a holdout: {"h": 1 if this
  visitor is held out, "s": a per-visitor seed}. Records the assignment.

Refusals answer with a status and one sentence: 413 too large, 400 malformed, 404 unknown widget,
403 foreign origin or a known bot, 503 when the buffer cannot take the batch (nothing was stored).
"""

from __future__ import annotations

import json
import logging
import secrets

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from testimonials.analytics import beacon, keys
from testimonials.analytics.buffer import BufferUnavailable, get_buffer
from testimonials.analytics.selectors import WidgetFacts, origin_allowed, widget_facts
from testimonials.collection.abuse import client_ip

log = logging.getLogger(__name__)


def _refuse(status: int, message: str, origin: str = "") -> HttpResponse:
    response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    return _cors(response, origin)


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    # The host page's own requests are CORS requests (so the browser sends the real Origin even under a
    # no-referrer policy): they may read nothing but the status, except hello's answer.
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _own_origins(request) -> set[str]:
    own = {f"{request.scheme}://{request.get_host()}"}
    own.add(settings.PUBLIC_URL)
    return own


def _body(request) -> bytes | None:
    limit = settings.ANALYTICS_MAX_BEACON_BYTES
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _checked(request, public_id: str) -> tuple[WidgetFacts, bool, str]:
    """The widget, whether the request comes from its document (else the host page), and the host origin."""
    if request.method != "POST":
        raise _Refused(405, "Send events with POST.")
    try:
        facts = widget_facts(public_id)
    except DatabaseError:
        # Never seen by this process and the database is down: nothing stored, say so (not a bare 500).
        log.warning("analytics: widget %s unknown to this process while the database is unavailable", public_id)
        raise _Refused(503, "Events cannot be stored right now.") from None
    if facts is None:
        raise _Refused(404, "No such widget.")
    origin = request.headers.get("Origin", "")
    if not origin or origin == "null":
        raise _Refused(403, "The request has no Origin: it does not come from a page showing the widget.")
    from_frame = origin in _own_origins(request)
    if not from_frame and not origin_allowed(origin, facts.allowed):
        raise _Refused(403, f"{origin} is not among this widget's allowed sites.")
    if beacon.is_bot(request.headers.get("User-Agent", "")):
        raise _Refused(403, "Automated clients are not counted.")
    return facts, from_frame, origin


def _key(request, facts: WidgetFacts, salt: keys.Salt) -> str:
    return keys.visitor_key(
        salt, brand_id=facts.brand_id, ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")
    )


def _record(*, facts: WidgetFacts, salt: keys.Salt, key: str, now, events: list) -> bytes:
    return json.dumps(
        {"t": now.timestamp(), "w": facts.id, "b": facts.brand_id, "s": salt.id, "k": key, "e": events},
        separators=(",", ":"),
    ).encode()


@csrf_exempt  # no cookie is read or set: the Origin header and the widget's allowed sites decide
def beacon_events(request, public_id: str):
    try:
        facts, from_frame, origin = _checked(request, public_id)
    except _Refused as refused:
        return _refuse(refused.status, refused.message, "")
    cors_origin = "" if from_frame else origin
    body = _body(request)
    if body is None:
        return _refuse(413, f"A batch is at most {settings.ANALYTICS_MAX_BEACON_BYTES} bytes.", cors_origin)
    try:
        batch = beacon.parse(body, from_frame=from_frame, max_events=settings.ANALYTICS_MAX_EVENTS)
    except beacon.BeaconError as error:
        return _refuse(400, str(error), cors_origin)
    if from_frame and not origin_allowed(batch.host_origin, facts.allowed):
        # The document is framed only by allowed sites (frame-ancestors); it says which one it is on.
        return _refuse(403, "The widget document must name an allowed host page in 'o'.", "")
    now = timezone.now()
    salt = keys.current_salt(now)
    record = _record(
        facts=facts, salt=salt, key=_key(request, facts, salt), now=now, events=[e.to_wire() for e in batch.events]
    )
    try:
        get_buffer().append(record)
    except BufferUnavailable:
        log.warning("analytics buffer unavailable: a batch of %d events refused", len(batch.events))
        return _refuse(503, "Events cannot be stored right now.", cors_origin)
    return _cors(HttpResponse(status=204), cors_origin)


@csrf_exempt
def beacon_hello(request, public_id: str):
    try:
        facts, from_frame, origin = _checked(request, public_id)
    except _Refused as refused:
        return _refuse(refused.status, refused.message, "")
    if from_frame:
        return _refuse(403, "The loader on the host page says hello, not the widget document.", "")
    now = timezone.now()
    salt = keys.current_salt(now)
    key = _key(request, facts, salt)
    held = facts.holdout > 0 and keys.holdout_bucket(key, facts.public_id) < facts.holdout * 100
    if facts.holdout > 0:
        # A server-made id: the same buffered entry drained twice still counts once.
        event = [secrets.token_urlsafe(12), beacon.HOLD, "1" if held else "0", facts.holdout]
        try:
            get_buffer().append(_record(facts=facts, salt=salt, key=key, now=now, events=[event]))
        except BufferUnavailable:
            # Show the widget: a visitor never misses it because the buffer is down.
            return _cors(JsonResponse({"h": 0, "s": keys.visitor_seed(key, facts.public_id)}), origin)
    return _cors(JsonResponse({"h": int(held), "s": keys.visitor_seed(key, facts.public_id)}), origin)
