"""Infrastructure outages: telling them apart from an item's own failure, and logging them once.

A database restart, a broker that is gone, a full disk: none of these says anything about the
testimonial or photo being processed when it happened. So an infrastructure error never uses up an
item's attempts (the row goes back to waiting, and the work is retried on a slow backoff:
`queue.INFRASTRUCTURE_RETRY`), while an error of the item's own (a bug, a corrupt file) is counted
and ends in `failed` after VOUCH_MAX_ATTEMPTS.

An outage also fails every request and task at once: a 15-second PostgreSQL restart wrote 42,000
log lines. `OutageLogFilter` (on the console handler, config/settings.py LOGGING) lets the first
record of each kind of outage through per interval, as one line without its traceback, and counts
the rest into the next line it lets through.
"""

from __future__ import annotations

import errno
import logging
import threading
import time

import django.db
import kombu.exceptions
import redis.exceptions

# OS errors that say "the machine or the network", not "this file": a full or read-only disk, a
# failing device, memory, and connections refused, reset or timed out.
INFRASTRUCTURE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EIO,
        errno.EROFS,
        errno.ENOMEM,
        errno.EAGAIN,
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EPIPE,
    }
)


def outage_kind(exc: BaseException | None) -> str | None:
    """'database', 'broker', 'redis', 'disk' or 'network' if `exc` (or its cause) is an outage, else None."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, django.db.OperationalError | django.db.InterfaceError):
            return "database"
        if isinstance(exc, kombu.exceptions.OperationalError | kombu.exceptions.ChannelError):
            return "broker"
        if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
            return "redis"
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS):
            return "disk"
        if isinstance(exc, ConnectionError | TimeoutError) or (
            isinstance(exc, OSError) and exc.errno in INFRASTRUCTURE_ERRNOS
        ):
            return "network"
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def is_infrastructure_error(exc: BaseException | None) -> bool:
    """Whether `exc` is an outage of the database, broker, disk or network rather than the item's own fault."""
    return outage_kind(exc) is not None


class OutageLogFilter(logging.Filter):
    """Let one record per (logger, outage kind) through per `interval` seconds, as one line with a count.

    Records that are not about an outage pass untouched. The record let through loses its
    traceback (the first line says what failed; the same traceback 93 lines long, thousands of
    times, says nothing more) and says how many similar records were held back before it.
    """

    def __init__(self, interval: float = 60.0) -> None:
        super().__init__()
        self.interval = interval
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else getattr(record, "outage", None)
        kind = exc if isinstance(exc, str) else outage_kind(exc)
        if kind is None:
            return True
        key = (record.name, kind)
        now = time.monotonic()
        with self._lock:
            started, held = self._windows.get(key, (None, 0))
            if started is not None and now - started < self.interval:
                self._windows[key] = (started, held + 1)
                return False
            self._windows[key] = (now, 0)
        detail = f": {type(exc).__name__}: {exc}".splitlines()[0][:300] if isinstance(exc, BaseException) else ""
        suffix = f" ({held} similar messages held back in the last {self.interval:.0f} s)" if held else ""
        record.msg = f"{record.getMessage()} [{kind} outage{detail}]{suffix}"
        record.args = None
        record.exc_info = None
        record.exc_text = None
        return True


class CircuitBreaker:
    """Stop calling a service that just failed, for `cooldown` seconds, then let one call try again.

    A request must not pay for a dead dependency (the broker, the Redis cache) more than once per
    short interval. Per process, and thread-safe: after the cooldown, one caller tries (half-open)
    while the others keep skipping until it succeeds or fails.
    """

    def __init__(self, cooldown: float) -> None:
        self.cooldown = cooldown
        self._lock = threading.Lock()
        self._open_until = 0.0
        self.failures = 0
        self.skipped = 0

    def allow(self) -> bool:
        with self._lock:
            if self.failures == 0:
                return True
            now = time.monotonic()
            if now >= self._open_until:
                self._open_until = now + self.cooldown  # this caller is the trial; others skip meanwhile
                return True
            self.skipped += 1
            return False

    def failed(self) -> None:
        with self._lock:
            self.failures += 1
            self._open_until = time.monotonic() + self.cooldown

    def succeeded(self) -> None:
        with self._lock:
            self.failures = 0
            self.skipped = 0
            self._open_until = 0.0

    def state(self) -> dict:
        with self._lock:
            if self.failures == 0:
                return {"state": "closed", "failures": 0, "skipped": 0, "retry_in": 0.0}
            wait = max(0.0, self._open_until - time.monotonic())
            return {
                "state": "open" if wait > 0 else "half-open",
                "failures": self.failures,
                "skipped": self.skipped,
                "retry_in": round(wait, 3),
            }
