"""Ingest (buffer -> raw events + rollups) and housekeeping (salts, partitions, retention).

`analytics_drain` claims entries from the buffer, writes them in one transaction per batch and removes
them from the buffer only after commit. Every write is idempotent on its natural key, so an entry handed
out twice (a worker killed after commit and before ack) changes nothing the second time:
- raw events: INSERT ... ON CONFLICT (day, event_id) DO NOTHING RETURNING: only the events this
  transaction really added reach the rollups;
- exposures, holdout assignments, referral arrivals: ON CONFLICT DO NOTHING RETURNING, so a visitor is
  counted once per salt window;
- conversions: unique per (brand, order id), and converted flags are flipped with `converted = false`
  in the UPDATE's WHERE, so a converter is counted once.
Rollups are upserts that add, in key order (two drainers never deadlock on them). No drain lock needed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from testimonials.analytics import beacon, keys, partitions
from testimonials.analytics.buffer import get_buffer
from testimonials.analytics.models import (
    ROLLUP_COLUMN,
    BrandAnalytics,
    Conversion,
    Event,
    EventKind,
    Exposure,
    HoldoutAssignment,
    ReferralArrival,
    VisitorSalt,
    WidgetHoldout,
)
from testimonials.errors import PermissionDenied
from testimonials.lifecycle.events import record
from testimonials.models import EventType, Testimonial
from testimonials.selectors import user_can_edit_brand

log = logging.getLogger(__name__)

ROLLUP_COUNTERS = (
    "impressions", "views", "plays", "q25", "q50", "q75", "completions", "clicks_author", "clicks_more",
    "clicks_share", "clicks_wall", "visitors", "converters", "conversions_any", "conversions_last",
)  # fmt: skip
ROLLUP_VALUES = ("value_any", "value_last")
HOLDOUT_FIELDS = (
    "shown_visitors", "held_visitors", "shown_converters", "held_converters", "shown_value", "held_value",
)  # fmt: skip
REFERRAL_FIELDS = ("arrivals", "visitors", "converters", "conversions", "value")
ZERO = Decimal("0.00")
CHUNK = 500  # rows per multi-row statement (SQLite's parameter limit, PostgreSQL's plan size)
SALT_GRACE = dt.timedelta(hours=1)  # a salt outlives its window this long, for beacons still in the buffer


@dataclass
class IngestResult:
    beacons: int = 0
    events: int = 0
    added: int = 0
    duplicates: int = 0
    dropped: int = 0
    conversions: int = 0

    def add(self, other: IngestResult) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


KINDS = frozenset(EventKind.values)


@dataclass(slots=True)
class _Row:
    day: dt.date
    at: dt.datetime
    event_id: str
    kind: str
    brand_id: int
    widget_id: int
    testimonial_id: int | None
    salt_id: int | None
    key: str
    value: Decimal | None = None
    currency: str = ""
    order: str = ""


@dataclass
class _Sums:
    rollups: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    holdouts: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    referrals: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))


# --------------------------------------------------------------------------- draining


def analytics_drain(*, consumer: str | None = None, max_rounds: int = 1000) -> IngestResult:
    """Drain the buffer until it is empty (or `max_rounds` batches): each batch commits, then leaves the buffer."""
    buffer = get_buffer()
    consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
    total = IngestResult()
    partitions.ensure_for(timezone.now())
    for _ in range(max_rounds):
        entries = buffer.claim(consumer=consumer, count=settings.ANALYTICS_DRAIN_BATCH)
        if not entries:
            break
        total.add(ingest_records([entry.data for entry in entries]))
        buffer.ack(entries)  # after commit: a kill -9 before this hands them out again, to no effect
    return total


@transaction.atomic
def ingest_records(datas: list[bytes]) -> IngestResult:
    """Write buffered beacons (views._record's JSON) as raw events and rollups, in one transaction."""
    result = IngestResult(beacons=len(datas))
    rows, holds = _decode(datas, result)
    if not rows and not holds:
        return result
    live_salts = set(VisitorSalt.objects.filter(id__in={r.salt_id for r in rows + holds}).values_list("id", flat=True))
    for row in rows + holds:
        if row.salt_id not in live_salts:
            row.salt_id = None  # the window is over and its salt gone: counted, but linked to no visitor
    _resolve_testimonials(rows, result)
    new = _insert_events(rows)
    result.added = len(new)
    result.duplicates = len(rows) - len(new)
    sums = _Sums()
    for row in new:
        column = ROLLUP_COLUMN.get(row.kind)
        if column:
            sums.rollups[(row.brand_id, row.widget_id, row.testimonial_id, row.day)][column] += 1
        elif row.kind == EventKind.ARRIVE:
            sums.referrals[(row.brand_id, row.testimonial_id, row.day)]["arrivals"] += 1
    _exposures(new, sums)
    _assignments(holds, sums)
    _arrivals(new, sums)
    conversions = sorted((r for r in new if r.kind == EventKind.CONVERT), key=lambda r: r.at)
    result.conversions = _conversions(conversions, sums)
    _upsert_rollups(sums.rollups)
    _upsert_holdouts(sums.holdouts)
    _upsert_referrals(sums.referrals)
    return result


def _decode(datas: list[bytes], result: IngestResult) -> tuple[list[_Row], list[_Row]]:
    rows, holds = [], []
    for data in datas:
        try:
            record = json.loads(data)
            at = dt.datetime.fromtimestamp(float(record["t"]), tz=dt.UTC)
            brand_id, widget_id, salt_id, key = int(record["b"]), int(record["w"]), int(record["s"]), record["k"]
            events = record["e"]
        except (ValueError, KeyError, TypeError):
            # Only the endpoint writes the buffer, so this is a bug or a tampered buffer: never a stuck drain.
            log.error("analytics: an unreadable buffer entry was skipped")
            result.dropped += 1
            continue
        day = at.date()
        for event in events:
            result.events += 1
            try:
                event_id, kind = event[0], event[1]
                if kind == beacon.HOLD:
                    holds.append(_Row(day, at, event_id, kind, brand_id, widget_id, int(event[3]), salt_id, key,
                                      order=str(event[2])))  # fmt: skip
                    continue
                if kind not in KINDS:
                    raise ValueError(kind)
                ref = event[2] if len(event) > 2 else ""
                row = _Row(day, at, event_id, kind, brand_id, widget_id, None, salt_id, key, order=ref or "")
                if kind == EventKind.CONVERT:
                    row.value = None if event[3] in (None, "") else Decimal(str(event[3]))
                    row.currency, row.order = event[4] or "", event[5] or ""
                rows.append(row)
            except (ValueError, IndexError, TypeError, ArithmeticError):
                result.dropped += 1
    return rows, holds


def _resolve_testimonials(rows: list[_Row], result: IngestResult) -> None:
    """Public ids and referral codes to testimonial ids, within the event's brand. An event naming a
    testimonial of another brand, or one that is gone, is dropped."""
    public = {(r.brand_id, r.order) for r in rows if r.kind in beacon.TESTIMONIAL_KINDS}
    codes = {(r.brand_id, r.order) for r in rows if r.kind == EventKind.ARRIVE}
    by_public, by_code = {}, {}
    if public:
        found = Testimonial.objects.filter(public_id__in={ref for _, ref in public}).values_list(
            "brand_id", "public_id", "id"
        )
        by_public = {(b, p): i for b, p, i in found}
    if codes:
        found = Testimonial.objects.filter(referral_code__in={ref for _, ref in codes}).values_list(
            "brand_id", "referral_code", "id"
        )
        by_code = {(b, c): i for b, c, i in found}
    kept = []
    for row in rows:
        if row.kind in beacon.TESTIMONIAL_KINDS or row.kind == EventKind.ARRIVE:
            table = by_code if row.kind == EventKind.ARRIVE else by_public
            row.testimonial_id = table.get((row.brand_id, row.order))
            row.order = ""
            if row.testimonial_id is None:
                result.dropped += 1
                continue
        elif row.kind != EventKind.CONVERT:
            row.order = ""
        kept.append(row)
    rows[:] = kept


def _sql_values(count: int, width: int) -> str:
    one = "(" + ", ".join(["%s"] * width) + ")"
    return ", ".join([one] * count)


def _adapt_dt(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _adapt_day(value: dt.date):
    return connection.ops.adapt_datefield_value(value)


def _adapt_money(value: Decimal | None):
    return None if value is None else connection.ops.adapt_decimalfield_value(value, 16, 2)


def _insert_events(rows: list[_Row]) -> list[_Row]:
    """Insert raw events; the rows this statement added (a replayed or re-drained event is not among them)."""
    table = Event._meta.db_table
    added: set[tuple] = set()
    if connection.vendor == "postgresql" and rows:
        # One JSON parameter for the whole batch: quoting one string is far cheaper than binding ten
        # parameters per row (docs/benchmarks.md, analytics ingest).
        payload = json.dumps([
            [r.day.isoformat(), r.at.isoformat(), r.event_id, r.kind, r.brand_id, r.widget_id, r.testimonial_id,
             None if r.value is None else str(r.value), r.currency, r.order[:100]] for r in rows
        ], separators=(",", ":"))  # fmt: skip
        sql = (
            f"INSERT INTO {table} (day, received_at, event_id, kind, brand_id, widget_id, testimonial_id, "  # noqa: S608
            "value, currency, order_id) SELECT (x->>0)::date, (x->>1)::timestamptz, x->>2, x->>3, (x->>4)::bigint, "
            "(x->>5)::bigint, (x->>6)::bigint, (x->>7)::numeric, x->>8, x->>9 FROM json_array_elements(%s::json) x "
            "ON CONFLICT (day, event_id) DO NOTHING RETURNING event_id, day"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [payload])
            added.update((event_id, _as_date(day)) for event_id, day in cursor.fetchall())
        return _first_added(rows, added)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        params = []
        for r in chunk:
            params += [
                _adapt_day(r.day), _adapt_dt(r.at), r.event_id, r.kind, r.brand_id, r.widget_id, r.testimonial_id,
                _adapt_money(r.value), r.currency, r.order[:100],
            ]  # fmt: skip
        sql = (
            f"INSERT INTO {table} (day, received_at, event_id, kind, brand_id, widget_id, testimonial_id, value, "  # noqa: S608 - our table names; values are parameters
            f"currency, order_id) VALUES {_sql_values(len(chunk), 10)} "
            "ON CONFLICT (day, event_id) DO NOTHING RETURNING event_id, day"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            added.update((event_id, _as_date(day)) for event_id, day in cursor.fetchall())
    return _first_added(rows, added)


def _first_added(rows: list[_Row], added: set[tuple]) -> list[_Row]:
    # An id twice in one batch (two beacons replayed together): the first one counts.
    result, seen = [], set()
    for r in rows:
        key = (r.event_id, r.day)
        if key in added and key not in seen:
            seen.add(key)
            result.append(r)
    return result


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _exposures(new: list[_Row], sums: _Sums) -> None:
    """A visitor seeing the widget (impression) or viewing a testimonial: one row per salt window; the
    first one adds to `visitors`, later ones move `last_seen` (the last-seen rule)."""
    seen: dict[tuple, list] = {}
    for r in new:
        if r.salt_id is None or r.kind not in (EventKind.IMPRESSION, EventKind.VIEW):
            continue
        key = (r.salt_id, r.key, r.widget_id, r.testimonial_id)
        if key in seen:
            seen[key][2] = max(seen[key][2], r.at)
        else:
            seen[key] = [r.brand_id, r.at, r.at, r.day]
    if not seen:
        return
    table = Exposure._meta.db_table
    inserted: set[tuple] = set()
    items = sorted(seen.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2], kv[0][3] or 0))
    for with_testimonial in (True, False):
        part = [(k, v) for k, v in items if (k[3] is not None) == with_testimonial]
        target = (
            "(salt_id, visitor_key, widget_id, testimonial_id) WHERE testimonial_id IS NOT NULL"
            if with_testimonial
            else "(salt_id, visitor_key, widget_id) WHERE testimonial_id IS NULL"
        )
        if connection.vendor == "postgresql" and part:
            payload = json.dumps([
                [brand_id, salt_id, key, widget_id, testimonial_id, day.isoformat(), first.isoformat(),
                 last.isoformat()]
                for (salt_id, key, widget_id, testimonial_id), (brand_id, first, last, day) in part
            ], separators=(",", ":"))  # fmt: skip
            sql = (
                f"INSERT INTO {table} (brand_id, salt_id, visitor_key, widget_id, testimonial_id, day, first_seen, "  # noqa: S608
                "last_seen, converted) SELECT (x->>0)::bigint, (x->>1)::bigint, x->>2, (x->>3)::bigint, "
                "(x->>4)::bigint, (x->>5)::date, (x->>6)::timestamptz, (x->>7)::timestamptz, false "
                f"FROM json_array_elements(%s::json) x ON CONFLICT {target} DO NOTHING "
                "RETURNING salt_id, visitor_key, widget_id, testimonial_id"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, [payload])
                inserted.update(tuple(row) for row in cursor.fetchall())
            continue
        for start in range(0, len(part), CHUNK):
            chunk = part[start : start + CHUNK]
            params = []
            for (salt_id, key, widget_id, testimonial_id), (brand_id, first, last, day) in chunk:
                params += [brand_id, salt_id, key, widget_id, testimonial_id, _adapt_day(day), _adapt_dt(first),
                           _adapt_dt(last), False]  # fmt: skip
            sql = (
                f"INSERT INTO {table} (brand_id, salt_id, visitor_key, widget_id, testimonial_id, day, first_seen, "  # noqa: S608 - our table names; values are parameters
                f"last_seen, converted) VALUES {_sql_values(len(chunk), 9)} ON CONFLICT {target} DO NOTHING "
                "RETURNING salt_id, visitor_key, widget_id, testimonial_id"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                inserted.update(tuple(row) for row in cursor.fetchall())
    updates = []
    for (salt_id, key, widget_id, testimonial_id), (brand_id, _first, last, day) in items:
        if (salt_id, key, widget_id, testimonial_id) in inserted:
            sums.rollups[(brand_id, widget_id, testimonial_id, day)]["visitors"] += 1
        else:
            updates.append((salt_id, key, widget_id, testimonial_id, last))
    if updates and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for with_testimonial in (True, False):
                part = [u for u in updates if (u[3] is not None) == with_testimonial]
                if not part:
                    continue
                match = "t.testimonial_id = v.testimonial_id" if with_testimonial else "t.testimonial_id IS NULL"
                payload = json.dumps([[u[0], u[1], u[2], u[3], u[4].isoformat()] for u in part])
                cursor.execute(
                    f"UPDATE {table} AS t SET last_seen = v.last_seen FROM (SELECT (x->>0)::bigint AS salt_id, "  # noqa: S608
                    "x->>1 AS visitor_key, (x->>2)::bigint AS widget_id, (x->>3)::bigint AS testimonial_id, "
                    "(x->>4)::timestamptz AS last_seen FROM json_array_elements(%s::json) x) AS v "
                    "WHERE t.salt_id = v.salt_id AND t.visitor_key = v.visitor_key "
                    f"AND t.widget_id = v.widget_id AND {match} AND t.last_seen < v.last_seen",
                    [payload],
                )
    elif updates:
        with connection.cursor() as cursor:
            for with_testimonial in (True, False):
                match = "testimonial_id = %s" if with_testimonial else "testimonial_id IS NULL"
                params = [
                    [_adapt_dt(last), s, k, w, *([t] if with_testimonial else []), _adapt_dt(last)]
                    for s, k, w, t, last in updates
                    if (t is not None) == with_testimonial
                ]
                if params:
                    cursor.executemany(
                        f"UPDATE {table} SET last_seen = %s WHERE salt_id = %s AND visitor_key = %s "  # noqa: S608 - our table names; values are parameters
                        f"AND widget_id = %s AND {match} AND last_seen < %s",
                        params,
                    )


def _assignments(holds: list[_Row], sums: _Sums) -> None:
    """The loader's holdout assignments: a visitor counts once per widget and salt window, in its arm."""
    if not holds:
        return
    unique: dict[tuple, _Row] = {}
    for r in holds:
        if r.salt_id is not None:
            unique.setdefault((r.widget_id, r.salt_id, r.key), r)
    table = HoldoutAssignment._meta.db_table
    items = sorted(unique.items())
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        params = []
        for (widget_id, salt_id, key), r in chunk:
            params += [widget_id, salt_id, key, r.order == "1", r.testimonial_id, _adapt_day(r.day), False]
        sql = (
            f"INSERT INTO {table} (widget_id, salt_id, visitor_key, held_out, percent, day, converted) "  # noqa: S608 - our table names; values are parameters
            f"VALUES {_sql_values(len(chunk), 7)} ON CONFLICT (widget_id, salt_id, visitor_key) DO NOTHING "
            "RETURNING widget_id, salt_id, visitor_key"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for returned in cursor.fetchall():
                r = unique[tuple(returned)]
                arm = "held_visitors" if r.order == "1" else "shown_visitors"
                sums.holdouts[(r.brand_id, r.widget_id, r.day, r.testimonial_id)][arm] += 1


def _arrivals(new: list[_Row], sums: _Sums) -> None:
    unique: dict[tuple, _Row] = {}
    for r in new:
        if r.kind == EventKind.ARRIVE and r.salt_id is not None:
            unique.setdefault((r.salt_id, r.key, r.testimonial_id), r)
    if not unique:
        return
    table = ReferralArrival._meta.db_table
    items = sorted(unique.items())
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        params = []
        for (salt_id, key, testimonial_id), r in chunk:
            params += [r.brand_id, salt_id, key, testimonial_id, _adapt_day(r.day), _adapt_dt(r.at), False]
        sql = (
            f"INSERT INTO {table} (brand_id, salt_id, visitor_key, testimonial_id, day, first_seen, converted) "  # noqa: S608 - our table names; values are parameters
            f"VALUES {_sql_values(len(chunk), 7)} ON CONFLICT (salt_id, visitor_key, testimonial_id) DO NOTHING "
            "RETURNING salt_id, visitor_key, testimonial_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for returned in cursor.fetchall():
                r = unique[tuple(returned)]
                sums.referrals[(r.brand_id, r.testimonial_id, r.day)]["visitors"] += 1


def _currencies(brand_ids: set[int]) -> dict[int, str]:
    chosen = dict(BrandAnalytics.objects.filter(brand_id__in=brand_ids).values_list("brand_id", "currency"))
    return {b: chosen.get(b, "EUR") for b in brand_ids}


def _conversions(conversions: list[_Row], sums: _Sums) -> int:
    """Store each conversion once per order id and credit it: every testimonial its visitor viewed before
    (the `_any` rule), the last one viewed (`_last`), the widgets seen, the holdout arm and the referral."""
    if not conversions:
        return 0
    currencies = _currencies({r.brand_id for r in conversions})
    stored = 0
    for r in conversions:
        value = r.value if r.value is not None and r.currency in ("", currencies[r.brand_id]) else None
        conversion_id = _insert_conversion(r)
        if conversion_id is None:
            continue  # a repeat of an order already counted: not stored, credits nothing
        stored += 1
        if r.salt_id is None:
            continue
        _credit(r, conversion_id, value or ZERO, sums)
    return stored


def _insert_conversion(r: _Row) -> int | None:
    """The new conversion's id, or None when the brand already has this order id (the unique index decides)."""
    table = Conversion._meta.db_table
    sql = (
        f"INSERT INTO {table} (brand_id, salt_id, visitor_key, event_id, order_id, value, "  # noqa: S608
        "currency, at, day, testimonials_seen, last_testimonial_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 0, NULL) "
        "ON CONFLICT (brand_id, order_id) WHERE NOT (order_id = '') DO NOTHING RETURNING id"
    )
    params = [
        r.brand_id, r.salt_id, r.key if r.salt_id else "", r.event_id, r.order, _adapt_money(r.value), r.currency,
        _adapt_dt(r.at), _adapt_day(r.day),
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def _credit(r: _Row, conversion_id: int, value: Decimal, sums: _Sums) -> None:
    exposures = list(
        Exposure.objects.filter(brand_id=r.brand_id, salt_id=r.salt_id, visitor_key=r.key, first_seen__lte=r.at)
        .values("id", "widget_id", "testimonial_id", "day", "last_seen", "converted")
        .order_by("last_seen", "id")
    )
    viewed = [e for e in exposures if e["testimonial_id"] is not None]
    for e in viewed:
        cell = sums.rollups[(r.brand_id, e["widget_id"], e["testimonial_id"], r.day)]
        cell["conversions_any"] += 1
        cell["value_any"] += value
    for widget_id in {e["widget_id"] for e in exposures}:
        cell = sums.rollups[(r.brand_id, widget_id, None, r.day)]
        cell["conversions_any"] += 1
        cell["value_any"] += value
    if viewed:
        last = viewed[-1]
        cell = sums.rollups[(r.brand_id, last["widget_id"], last["testimonial_id"], r.day)]
        cell["conversions_last"] += 1
        cell["value_last"] += value
    if exposures:
        cell = sums.rollups[(r.brand_id, exposures[-1]["widget_id"], None, r.day)]
        cell["conversions_last"] += 1
        cell["value_last"] += value
    fresh = [e["id"] for e in exposures if not e["converted"]]
    if fresh:
        flipped = Exposure.objects.filter(id__in=fresh, converted=False)
        rows = list(flipped.values_list("widget_id", "testimonial_id", "day"))
        flipped.update(converted=True)
        for widget_id, testimonial_id, day in rows:
            sums.rollups[(r.brand_id, widget_id, testimonial_id, day)]["converters"] += 1
    if viewed:
        Conversion.objects.filter(id=conversion_id).update(
            testimonials_seen=len({e["testimonial_id"] for e in viewed}),
            last_testimonial_id=viewed[-1]["testimonial_id"],
        )
    for a in HoldoutAssignment.objects.filter(salt_id=r.salt_id, visitor_key=r.key, widget__brand_id=r.brand_id):
        cell = sums.holdouts[(r.brand_id, a.widget_id, a.day, a.percent)]
        cell["held_value" if a.held_out else "shown_value"] += value
        if not a.converted and HoldoutAssignment.objects.filter(id=a.id, converted=False).update(converted=True):
            cell["held_converters" if a.held_out else "shown_converters"] += 1
    for a in ReferralArrival.objects.filter(
        salt_id=r.salt_id, visitor_key=r.key, brand_id=r.brand_id, first_seen__lte=r.at
    ):
        cell = sums.referrals[(r.brand_id, a.testimonial_id, a.day)]
        cell["conversions"] += 1
        cell["value"] += value
        if not a.converted and ReferralArrival.objects.filter(id=a.id, converted=False).update(converted=True):
            cell["converters"] += 1


def _upsert(table: str, keys_: tuple[str, ...], target: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    names = ", ".join(keys_ + columns)
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    width = len(keys_) + len(columns)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        sql = (
            f"INSERT INTO {table} ({names}) VALUES {_sql_values(len(chunk), width)} "  # noqa: S608 - our table names; values are parameters
            f"ON CONFLICT {target} DO UPDATE SET {adds}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [value for row in chunk for value in row])


def _money_or_int(column: str, value):
    return _adapt_money(Decimal(value).quantize(Decimal("0.01"))) if "value" in column else int(value)


def _upsert_rollups(rollups: dict) -> None:
    from testimonials.analytics.models import DailyRollup

    table = DailyRollup._meta.db_table
    columns = ROLLUP_COUNTERS + ROLLUP_VALUES
    ordered = sorted(rollups.items(), key=lambda kv: (kv[0][1], kv[0][2] or 0, kv[0][3]))
    for with_testimonial in (True, False):
        rows = [
            (brand_id, widget_id, testimonial_id, _adapt_day(day), *[_money_or_int(c, cell.get(c, 0)) for c in columns])
            for (brand_id, widget_id, testimonial_id, day), cell in ordered
            if (testimonial_id is not None) == with_testimonial
        ]
        target = (
            "(widget_id, testimonial_id, day) WHERE testimonial_id IS NOT NULL"
            if with_testimonial
            else "(widget_id, day) WHERE testimonial_id IS NULL"
        )
        _upsert(table, ("brand_id", "widget_id", "testimonial_id", "day"), target, columns, rows)


def _upsert_holdouts(holdouts: dict) -> None:
    from testimonials.analytics.models import HoldoutDaily

    rows = [
        (brand_id, widget_id, _adapt_day(day), percent, *[_money_or_int(c, cell.get(c, 0)) for c in HOLDOUT_FIELDS])
        for (brand_id, widget_id, day, percent), cell in sorted(holdouts.items(), key=lambda kv: kv[0][1:])
    ]
    _upsert(
        HoldoutDaily._meta.db_table, ("brand_id", "widget_id", "day", "percent"), "(widget_id, day, percent)",
        HOLDOUT_FIELDS, rows,
    )  # fmt: skip


def _upsert_referrals(referrals: dict) -> None:
    from testimonials.analytics.models import ReferralDaily

    rows = [
        (brand_id, testimonial_id, _adapt_day(day), *[_money_or_int(c, cell.get(c, 0)) for c in REFERRAL_FIELDS])
        for (brand_id, testimonial_id, day), cell in sorted(referrals.items(), key=lambda kv: kv[0][1:])
    ]
    _upsert(ReferralDaily._meta.db_table, ("brand_id", "testimonial_id", "day"), "(testimonial_id, day)",
            REFERRAL_FIELDS, rows)  # fmt: skip


# --------------------------------------------------------------------------- housekeeping


def salts_rotate(*, now: dt.datetime | None = None) -> int:
    """Make the current and next windows' salts; delete salts whose window ended more than SALT_GRACE ago,
    and with them every visitor key made with them (exposures, assignments, arrivals; conversions keep
    their row but lose the key). Returns the number of salts deleted."""
    now = now or timezone.now()
    keys.salt_for(now)
    keys.salt_for(keys.window_bounds(now)[1])
    old = list(VisitorSalt.objects.filter(ends_at__lte=now - SALT_GRACE).values_list("id", flat=True))
    if not old:
        return 0
    with transaction.atomic():
        Conversion.objects.filter(salt_id__in=old).update(visitor_key="", salt=None)
        Exposure.objects.filter(salt_id__in=old).delete()
        HoldoutAssignment.objects.filter(salt_id__in=old).delete()
        ReferralArrival.objects.filter(salt_id__in=old).delete()
        VisitorSalt.objects.filter(id__in=old).delete()
    keys.forget_current_salt()
    return len(old)


def events_purge(*, now: dt.datetime | None = None) -> int:
    """Delete raw events and conversions older than ANALYTICS_RAW_RETENTION_DAYS (rollups stay).
    On PostgreSQL whole day partitions are dropped. Returns the number of days or rows removed."""
    now = now or timezone.now()
    cutoff = (now - dt.timedelta(days=settings.ANALYTICS_RAW_RETENTION_DAYS)).date()
    removed = partitions.drop_before(cutoff)
    removed += Event.objects.filter(day__lt=cutoff).delete()[0]
    Conversion.objects.filter(day__lt=cutoff).delete()
    return removed


def analytics_housekeeping(*, now: dt.datetime | None = None) -> dict:
    now = now or timezone.now()
    made = partitions.ensure_for(now)
    return {"salts_deleted": salts_rotate(now=now), "partitions_made": made, "purged": events_purge(now=now)}


# --------------------------------------------------------------------------- settings


@transaction.atomic
def widget_holdout_set(*, widget, percent: int, actor) -> WidgetHoldout:
    """Hold `percent` of a widget's visitors out (0 turns it off). Recorded as a widget change, so the
    widget republishes with the new share in its pointer (the loader reads it there)."""
    if not user_can_edit_brand(actor, widget.brand):
        raise PermissionDenied("Only the brand's owners and editors can change its widgets.")
    holdout = WidgetHoldout.objects.filter(widget=widget).first() or WidgetHoldout(widget=widget)
    before = holdout.percent if holdout.pk else 0
    holdout.percent = percent
    holdout.changed_at = timezone.now()
    holdout.full_clean()
    holdout.save()
    if before != percent:
        record(
            event=EventType.WIDGET_CHANGE,
            widget=widget,
            actor=actor,
            note=f"Holdout set to {percent}% of visitors." if percent else "Holdout turned off.",
        )
    return holdout
