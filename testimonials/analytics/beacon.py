"""The beacon's wire format and its validation: pure functions, no database.

A beacon is a `text/plain` POST of compact JSON (Plausible-style terse keys):

    {"o": "https://shop.example.com",            # the host page's origin (widget document only)
     "e": [["k3j9x0a1b2", "view", "<testimonial public id>"],
           ["k3j9x0a1b3", "convert", "", 49.0, "EUR", "order-123"], ...]}

Each event is `[id, kind, ref, value, currency, order]`, the last three for conversions only. `id`
is made by the browser (random per page view plus a counter), so a replayed batch counts once. `ref`
is a testimonial's public id, or for "arrive" a referral code.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal

from testimonials.analytics.models import EventKind

# Sent from the widget document (Vouch's origin) or from the host page (embed.js): never both ways.
FRAME_KINDS = frozenset(
    {
        EventKind.IMPRESSION, EventKind.VIEW, EventKind.PLAY, EventKind.Q25, EventKind.Q50, EventKind.Q75,
        EventKind.COMPLETE, EventKind.CLICK_AUTHOR, EventKind.CLICK_MORE, EventKind.CLICK_SHARE, EventKind.CLICK_WALL,
    }
)  # fmt: skip
# Made by the server only (the loader's hello): [id, "hold", "1" held out or "0" shown, percent].
HOLD = "hold"
HOST_KINDS = frozenset({EventKind.CONVERT, EventKind.ARRIVE})
KINDS = frozenset(EventKind.values)  # computed once: TextChoices.values builds a new list on each access
# Kinds about one testimonial: they name it in `ref`.
TESTIMONIAL_KINDS = FRAME_KINDS - {EventKind.IMPRESSION, EventKind.CLICK_WALL}

_ID = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
_REF = re.compile(r"^[A-Za-z0-9_-]{4,40}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ORDER = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,99}$")
MAX_VALUE = Decimal("999999999999.99")

# Known automated clients by user agent (with navigator.webdriver, checked in the browser): crawlers,
# link previewers, monitors, headless browsers and HTTP libraries.
BOT_UA = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|archiver|headless|phantomjs|lighthouse|pagespeed|pingdom|uptime|monitor|"
    r"preview|facebookexternalhit|embedly|python-requests|python-urllib|aiohttp|httpx|curl/|wget/|go-http-client|"
    r"java/|okhttp|libwww|scrapy|node-fetch|axios|postman|insomnia|^$",
    re.IGNORECASE,
)


class BeaconError(ValueError):
    """A malformed batch, with what is wrong (the endpoint's 400 body)."""


@dataclass(frozen=True)
class BeaconEvent:
    id: str
    kind: str
    ref: str = ""
    value: Decimal | None = None
    currency: str = ""
    order: str = ""

    def to_wire(self) -> list:
        if self.kind == EventKind.CONVERT:
            value = None if self.value is None else str(self.value)
            return [self.id, self.kind, self.ref, value, self.currency, self.order]
        return [self.id, self.kind, self.ref]


@dataclass(frozen=True)
class Beacon:
    host_origin: str
    events: list[BeaconEvent]


def is_bot(user_agent: str) -> bool:
    return bool(BOT_UA.search(user_agent or ""))


def parse(body: bytes, *, from_frame: bool, max_events: int) -> Beacon:
    """Parse and validate a batch. Raises BeaconError saying what is wrong; never returns a partial batch."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BeaconError("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise BeaconError("The body must be a JSON object.")
    unknown = set(data) - {"o", "e"}
    if unknown:
        raise BeaconError(f"Unknown field {sorted(unknown)[0]!r}.")
    events = data.get("e")
    if not isinstance(events, list) or not events:
        raise BeaconError("'e' must be a non-empty list of events.")
    if len(events) > max_events:
        raise BeaconError(f"At most {max_events} events in one batch.")
    host = data.get("o", "")
    if not isinstance(host, str) or len(host) > 200:
        raise BeaconError("'o' must be the host page's origin.")
    allowed_kinds = FRAME_KINDS if from_frame else HOST_KINDS
    seen: set[str] = set()
    parsed = []
    for number, raw in enumerate(events, start=1):
        event = _event(raw, number)
        if event.kind not in allowed_kinds:
            where = "the widget document" if from_frame else "the host page"
            raise BeaconError(f"Event {number}: {event.kind!r} cannot come from {where}.")
        if event.id in seen:
            continue  # the same event twice in one batch counts once
        seen.add(event.id)
        parsed.append(event)
    return Beacon(host_origin=host, events=parsed)


def _event(raw, number: int) -> BeaconEvent:
    if not isinstance(raw, list) or not 2 <= len(raw) <= 6:
        raise BeaconError(f"Event {number} must be a list [id, kind, ref, ...].")
    event_id, kind, *rest = raw
    if not isinstance(event_id, str) or not _ID.match(event_id):
        raise BeaconError(f"Event {number}: the id must be 8 to 32 letters, digits, '-' or '_'.")
    if kind not in KINDS:
        raise BeaconError(f"Event {number}: unknown kind {kind!r}.")
    ref = rest[0] if rest else ""
    if ref is None:
        ref = ""
    if not isinstance(ref, str) or (ref and not _REF.match(ref)):
        raise BeaconError(f"Event {number}: 'ref' must be a testimonial id or a referral code.")
    if (kind in TESTIMONIAL_KINDS or kind == EventKind.ARRIVE) and not ref:
        raise BeaconError(f"Event {number}: {kind!r} names a testimonial.")
    if kind not in TESTIMONIAL_KINDS and kind != EventKind.ARRIVE and ref:
        raise BeaconError(f"Event {number}: {kind!r} names no testimonial.")
    if kind != EventKind.CONVERT:
        if len(rest) > 1:
            raise BeaconError(f"Event {number}: only conversions carry a value.")
        return BeaconEvent(event_id, kind, ref)
    value, currency, order = [*rest[1:], None, "", ""][:3]
    return BeaconEvent(event_id, kind, "", _value(value, number), _currency(currency, number), _order(order, number))


def _value(value, number: int) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BeaconError(f"Event {number}: the value must be a number.")
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise BeaconError(f"Event {number}: the value must be a number.") from None
    if (isinstance(value, float) and not math.isfinite(value)) or not amount.is_finite():
        raise BeaconError(f"Event {number}: the value must be a number.")
    if amount < 0 or amount > MAX_VALUE:
        raise BeaconError(f"Event {number}: the value must be between 0 and {MAX_VALUE}.")
    return amount.quantize(Decimal("0.01"))


def _currency(currency, number: int) -> str:
    if currency is None or currency == "":
        return ""
    if not isinstance(currency, str) or not _CURRENCY.match(currency.upper()):
        raise BeaconError(f"Event {number}: the currency must be an ISO 4217 code like EUR.")
    return currency.upper()


def _order(order, number: int) -> str:
    if order is None or order == "":
        return ""
    if isinstance(order, int) and not isinstance(order, bool):
        order = str(order)
    if not isinstance(order, str) or not _ORDER.match(order):
        raise BeaconError(f"Event {number}: the order id must be up to 100 printable characters.")
    return order
