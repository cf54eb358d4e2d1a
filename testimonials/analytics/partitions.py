"""Day partitions of the raw events table on PostgreSQL (migration 0007 makes the partitioned table and
its DEFAULT partition). Elsewhere these do nothing: SQLite keeps one plain table.

Partitions are made a few days ahead (housekeeping every few minutes, and each drain once per day per
process), so rows land in the DEFAULT partition only if housekeeping stopped for days; making a day's
partition then moves its rows out of DEFAULT first (PostgreSQL refuses otherwise). Retention drops
whole partitions: no vacuum debt from deleting millions of rows.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection, transaction

from testimonials.analytics.models import Event

AHEAD_DAYS = 3
_made_for: set[dt.date] = set()
_NAME = re.compile(r"^testimonials_event_p(\d{8})$")


def _enabled() -> bool:
    return connection.vendor == "postgresql"


def partition_name(day: dt.date) -> str:
    return f"testimonials_event_p{day:%Y%m%d}"


def existing() -> dict[dt.date, str]:
    if not _enabled():
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [Event._meta.db_table],
        )
        names = [row[0] for row in cursor.fetchall()]
    found = {}
    for name in names:
        match = _NAME.match(name)
        if match:
            found[dt.datetime.strptime(match.group(1), "%Y%m%d").date()] = name
    return found


def ensure(day: dt.date) -> bool:
    """Make `day`'s partition if it is missing. True when one was made."""
    if not _enabled():
        return False
    name, table = partition_name(day), Event._meta.db_table
    nxt = day + dt.timedelta(days=1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [name])
        if cursor.fetchone()[0] is not None:
            return False
        # Serialises two processes making the same partition; the DEFAULT rows of that day move with it.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
        cursor.execute("SELECT to_regclass(%s)", [name])
        if cursor.fetchone()[0] is not None:
            return False
        cursor.execute(f"CREATE TEMP TABLE moving (LIKE {table}) ON COMMIT DROP")
        cursor.execute(
            f"WITH gone AS (DELETE FROM {table}_default WHERE day >= %s AND day < %s RETURNING *) "  # noqa: S608 - our table names; values are parameters
            "INSERT INTO moving SELECT * FROM gone",
            [day, nxt],
        )
        cursor.execute(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM (%s) TO (%s)", [day, nxt])
        cursor.execute(f"INSERT INTO {table} SELECT * FROM moving")  # noqa: S608 - our table names
        cursor.execute("DROP TABLE moving")  # now, not at commit: an enclosing transaction may make more
    return True


def ensure_for(now: dt.datetime) -> int:
    """Partitions for yesterday to AHEAD_DAYS from now (cached per process and day)."""
    if not _enabled():
        return 0
    today = now.date()
    if today in _made_for:
        return 0
    made = sum(ensure(today + dt.timedelta(days=offset)) for offset in range(-1, AHEAD_DAYS + 1))
    _made_for.add(today)
    return made


def drop_before(cutoff: dt.date) -> int:
    """Drop the partitions of days before `cutoff`. Returns how many."""
    dropped = 0
    for day, name in sorted(existing().items()):
        if day < cutoff:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
            dropped += 1
    return dropped
