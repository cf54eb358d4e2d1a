"""The boundary between committed rows and the broker, and every task's retry policy.

Work is enqueued after commit with `send(task, *ids)`: a task object, never a name looked up at
run time. Only a broker problem (connection refused, a timeout, a full broker disk) means "not
sent; the sweeper enqueues it again later": the row is already safe in the database, and a broker
error must never become a 500 that invites a customer to submit twice. Anything else is a bug:
it raises in tests (VOUCH_ENQUEUE_BUGS_RAISE) and is logged at ERROR in production, where the
sweeper still recovers the work.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.db import transaction

from testimonials.outages import CircuitBreaker

log = logging.getLogger(__name__)

# What a broker that is down, frozen or full raises from apply_async(retry=False). OSError covers
# refused and timed-out sockets; ChannelError is the embedded filesystem transport's full disk
# (config/broker.py).
BROKER_ERRORS: tuple[type[BaseException], ...] = (
    kombu.exceptions.OperationalError,
    kombu.exceptions.ChannelError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
)


@dataclass(frozen=True)
class Retry:
    """Exponential backoff with full jitter, capped: how long to wait before retry number `retries` (0-based)."""

    base: float
    cap: float

    def delay(self, retries: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2 ** min(retries, 30)))


# Every task's retry policy, in one place. Attempts are counted on the rows (VOUCH_MAX_ATTEMPTS),
# never by the broker, so a redelivered or re-enqueued message cannot retry forever.
# testimonial_process_task: a failed row goes back to received and is enqueued again after this.
PROCESSING_RETRY = Retry(base=2.0, cap=300.0)
# media_process_task: a transient failure (storage, database, a time limit) retries the asset.
MEDIA_RETRY = Retry(base=5.0, cap=600.0)
# Any task whose work failed because of the infrastructure (database, broker, a full disk:
# outages.is_infrastructure_error) rather than the item: its attempts are not used up, and it waits
# over minutes, not seconds, so a one-minute outage cannot use up the five attempts of a photo.
INFRASTRUCTURE_RETRY = Retry(base=20.0, cap=600.0)
# lifecycle_dispatch_task: no retry of its own; the sweeper hands failed entries off again after this.
DISPATCH_RETRY = Retry(base=30.0, cap=3600.0)
# widget_publish_task: no retry of its own; a publish asked for and not done is re-enqueued by the sweeper.
# brand_topics_reread_task: no retry of its own; a step not done (its cursor not moved) for
# VOUCH_STUCK_AFTER_SECONDS is re-enqueued by the sweeper, and a newer vocabulary change restarts it.
# invitations_send_task: a message the mail server answered with a temporary error (4xx, a timeout)
# is deferred on its row and sent again after this, up to VOUCH_INVITE_MAX_ATTEMPTS attempts.
INVITE_SEND_RETRY = Retry(base=60.0, cap=6 * 3600.0)
# import_job_run_task: late ack; a job whose worker died resumes from its checkpoint (invitations_tick),
# up to IMPORT_MAX_ATTEMPTS starts before it is marked failed. invitations_tick_task: none (beat runs it).


@dataclass(frozen=True)
class Schedule:
    """Fixed waits before each retry, with +-`jitter` (a fraction), then give up (None)."""

    waits: tuple[float, ...]
    jitter: float = 0.1

    def delay(self, retries: int) -> float | None:
        if retries >= len(self.waits):
            return None
        wait = self.waits[retries]
        return wait * random.uniform(1 - self.jitter, 1 + self.jitter)

    @property
    def total(self) -> float:
        return sum(self.waits)


def webhook_retry() -> Schedule:
    """webhook_deliver_task: no broker retry and no late ack. A failed attempt schedules the next one on its
    row (VOUCH_WEBHOOK_RETRY_SCHEDULE: 5 s, 5 min, 30 min, 2 h, 5 h, 8 h, 8 h, so about 24 hours in all),
    then the delivery gives up and its endpoint is disabled. A message lost with the broker, or whose
    worker died mid-send (its lease lapses), is sent again by webhook_deliver_due_task, every 15 s."""
    return Schedule(tuple(settings.VOUCH_WEBHOOK_RETRY_SCHEDULE))


# import_job_run_task: late ack and a checkpoint per chunk; a job whose worker died (no heartbeat for
# IMPORT_STALLED_AFTER) is resumed by imports_resume_stalled_task, at most VOUCH_MAX_ATTEMPTS times.


# While Redis was unreachable every submit waited out the broker's timeouts (4-6 s at p50, up to
# 13 s): after one failure, this process skips the broker for VOUCH_BROKER_COOLDOWN_SECONDS. The row
# is committed before any send and the sweeper (its own worker) enqueues whatever was skipped.
broker_circuit = CircuitBreaker(cooldown=settings.VOUCH_BROKER_COOLDOWN_SECONDS)


def broker_circuit_state() -> dict:
    """This process's view of the broker for /readyz and metrics: closed (sending), open or half-open."""
    return broker_circuit.state()


def send(task, *args, countdown: float | None = None, kwargs: dict | None = None) -> bool:
    """Enqueue `task(*args, **kwargs)` now (or after `countdown` seconds). True when the broker took it.

    False when the broker failed, or failed moments ago (the circuit is open): the work is in the
    database and the sweeper enqueues it again.
    """
    if not broker_circuit.allow():
        log.warning("Did not enqueue %s: the broker failed moments ago.", task.name, extra={"outage": "broker"})
        return False
    try:
        if kwargs:
            _apply(task, args, countdown, kwargs)
        else:
            _apply(task, args, countdown)
    except BROKER_ERRORS as exc:
        broker_circuit.failed()
        log.warning(
            "Could not enqueue %s%r (%s: %s); the sweeper will retry it.",
            task.name,
            args,
            type(exc).__name__,
            exc,
            extra={"outage": "broker"},
        )
        return False
    except Exception:
        if settings.VOUCH_ENQUEUE_BUGS_RAISE:
            raise
        log.exception("Could not enqueue %s%r: a bug, not the broker. The sweeper will retry it.", task.name, args)
        return False
    broker_circuit.succeeded()
    return True


class _AfterCommit:
    """What one transaction sends once it commits: one on_commit callback, however many sends.

    `gather` sends share one task message per transaction: lists of ids (lifecycle entries) from
    every change the transaction recorded go out together, or ride in a `carry`ing send's message.
    """

    def __init__(self):
        self.sends: list[tuple] = []
        self.gathered: dict = {}
        self.flushed = False

    def flush(self) -> None:
        # Sends made while flushing (a task run in this process sending more) start a new batch.
        self.flushed = True
        for task, args, countdown, carry in self.sends:
            kwargs = {}
            if carry is not None and not countdown:
                gathered_task, name = carry
                items = self.gathered.pop(gathered_task, None)
                if items:
                    kwargs[name] = items
            send(task, *args, countdown=countdown, kwargs=kwargs)
        for task, items in self.gathered.items():
            send(task, items)


def _batch() -> _AfterCommit | None:
    """This transaction's batch, registering its callback the first time (None outside a transaction)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    batch = getattr(connection, "_vouch_after_commit", None)
    if batch is None or batch.flushed or not _still_pending(connection, batch):
        batch = _AfterCommit()
        connection._vouch_after_commit = batch
        transaction.on_commit(batch.flush)
    return batch


def _still_pending(connection, batch: _AfterCommit) -> bool:
    """Whether the batch's callback will run with this transaction's: Django drops the callbacks of a
    rolled-back transaction or savepoint, and a batch registered inside a savepoint that has since
    ended belongs to work this code is no longer part of (a test's transaction holds many requests)."""
    current = set(connection.savepoint_ids)
    return any(callback == batch.flush and sids <= current for sids, callback, _ in connection.run_on_commit)


def send_on_commit(task, *args, countdown: float | None = None, carry: tuple | None = None) -> None:
    """Send `task(*args)` once the current transaction commits (at once outside a transaction).

    `carry=(gathered_task, keyword)`: what this transaction gathered for `gathered_task` travels in this
    message as `keyword` instead of in a message of its own (one publish instead of two); `task` must hand
    it on. Only for items the sweeper also recovers, since a lost message now loses both sends.
    """
    batch = _batch()
    if batch is None:
        send(task, *args, countdown=countdown)
    else:
        batch.sends.append((task, args, countdown, carry))


def gather_on_commit(task, items: list) -> None:
    """Add `items` to the one list `task` receives when the current transaction commits."""
    batch = _batch()
    if batch is None:
        send(task, list(items))
    else:
        batch.gathered.setdefault(task, []).extend(items)


def _apply(task, args: tuple, countdown: float | None, kwargs: dict | None = None) -> None:
    """The one call that reaches the broker (tests stand in for it: tests/conftest.py `broker`)."""
    options = {"countdown": countdown} if countdown else {}
    if kwargs:
        options["kwargs"] = kwargs
    task.apply_async(args=list(args), retry=False, **options)
