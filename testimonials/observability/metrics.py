"""Prometheus metrics. Counted where things happen (requests, tasks); measured when scraped (queues,
waiting work, the last sweep), so a scrape always shows the present and costs nothing between scrapes.

Under gunicorn (several processes) and Celery's prefork pool, set PROMETHEUS_MULTIPROC_DIR to an
empty folder shared by every process of the host before they start (docs/deploy.md): counters and
histograms then go to files there and /metrics adds them up across processes.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

# Buckets around the targets: a customer page in tens of milliseconds, a submit within 100 ms.
REQUEST_SECONDS = Histogram(
    "vouch_http_request_duration_seconds",
    "Time from the first middleware to the response, by URL pattern name.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
TASKS = Counter(
    "vouch_celery_tasks",
    "Celery tasks finished, by task name and outcome (success, failure, retry).",
    ["task", "outcome"],
)

SWEEPER_TASK = "testimonials.tasks.sweep_stuck_task"
SWEEPER_LAST_RUN_KEY = "vouch:observability:sweeper-last-run"


_observe_failed = False


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one request. Never fails the request: a full disk under PROMETHEUS_MULTIPROC_DIR costs the
    metric, not the customer's answer (logged once per process)."""
    global _observe_failed
    try:
        REQUEST_SECONDS.labels(method, route, str(status)).observe(seconds)
    except Exception:
        if not _observe_failed:
            _observe_failed = True
            log.warning("Could not record a request's latency; metrics of this process are incomplete.", exc_info=True)


# --------------------------------------------------------------------------- Celery signals


def _task_name(sender, kwargs) -> str:
    task = sender if sender is not None and hasattr(sender, "name") else kwargs.get("task")
    return getattr(task, "name", None) or str(task or "unknown")


def on_task_success(sender=None, **kwargs) -> None:
    name = _task_name(sender, kwargs)
    TASKS.labels(name, "success").inc()
    if name == SWEEPER_TASK:
        sweeper_ran()


def on_task_failure(sender=None, **kwargs) -> None:
    TASKS.labels(_task_name(sender, kwargs), "failure").inc()


def on_task_retry(sender=None, **kwargs) -> None:
    request = kwargs.get("request")
    name = getattr(request, "task", None) or _task_name(sender, kwargs)
    TASKS.labels(name, "retry").inc()


def sweeper_ran(now: float | None = None) -> None:
    """Remember when the sweeper last finished, in the cache every process shares (Redis in production)."""
    try:
        cache.set(SWEEPER_LAST_RUN_KEY, now if now is not None else time.time(), timeout=None)
    except Exception:
        log.warning("Could not record the sweeper's run in the cache.", exc_info=True)


def sweeper_last_run() -> float | None:
    try:
        return cache.get(SWEEPER_LAST_RUN_KEY)
    except Exception:  # noqa: BLE001
        return None


def connect_signals() -> None:
    """Count task outcomes and tag each task's log records with its id (called once, from apps.ready)."""
    from celery import signals

    from testimonials.observability.logs import request_id_var

    signals.task_success.connect(on_task_success, weak=False, dispatch_uid="vouch-metrics-success")
    signals.task_failure.connect(on_task_failure, weak=False, dispatch_uid="vouch-metrics-failure")
    signals.task_retry.connect(on_task_retry, weak=False, dispatch_uid="vouch-metrics-retry")

    def prerun(task_id=None, **_kwargs):
        request_id_var.set(f"task-{task_id}" if task_id else "-")

    def postrun(**_kwargs):
        request_id_var.set("-")

    signals.task_prerun.connect(prerun, weak=False, dispatch_uid="vouch-log-task-id")
    signals.task_postrun.connect(postrun, weak=False, dispatch_uid="vouch-log-task-id-end")


# --------------------------------------------------------------------------- measured when scraped


def task_queues() -> list[str]:
    queues = {settings.CELERY_TASK_DEFAULT_QUEUE}
    queues.update(route["queue"] for route in settings.CELERY_TASK_ROUTES.values() if "queue" in route)
    return sorted(queues)


def queue_depths() -> dict[str, int]:
    """Messages waiting in each Celery queue (Redis list lengths, or files of the embedded broker)."""
    url = settings.CELERY_BROKER_URL
    queues = task_queues()
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        depths = dict.fromkeys(queues, 0)
        for entry in os.scandir(folder):
            queue = entry.name.rsplit(".", 2)[-2] if entry.name.endswith(".msg") else None
            if queue in depths:
                depths[queue] += 1
        return depths
    if url.startswith(("redis://", "rediss://")):
        import redis

        # kombu keeps a queue's priority levels in lists named "<queue>\x06\x16<level>".
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            pipe = client.pipeline(transaction=False)
            for queue in queues:
                for level in ("", "\x06\x163", "\x06\x166", "\x06\x169"):
                    pipe.llen(queue + level)
            pipe.hlen("unacked")
            counts = pipe.execute()
        finally:
            client.close()
        depths = {queue: sum(counts[i * 4 : i * 4 + 4]) for i, queue in enumerate(queues)}
        depths["unacked"] = counts[-1]
        return depths
    return {}


def oldest_waiting() -> dict[str, tuple[int, float | None]]:
    """Per kind of work, how many items wait (received or processing; media pending or processing)
    and the age in seconds of the one waiting longest (None when nothing waits)."""
    from django.db.models import Count, Min
    from django.utils import timezone

    from testimonials.models import MediaAsset, Testimonial, TestimonialState

    now = timezone.now()
    found = {}
    rows = {
        "testimonial": Testimonial.objects.filter(
            state__in=[TestimonialState.RECEIVED, TestimonialState.PROCESSING]
        ).aggregate(n=Count("id"), oldest=Min("state_changed_at")),
        "media": MediaAsset.objects.filter(
            status__in=[MediaAsset.Status.PENDING, MediaAsset.Status.PROCESSING]
        ).aggregate(n=Count("id"), oldest=Min("status_changed_at")),
    }
    for kind, row in rows.items():
        age = (now - row["oldest"]).total_seconds() if row["oldest"] else None
        found[kind] = (row["n"], age)
    return found


class LiveCollector:
    """The gauges read when Prometheus scrapes. A part that cannot be read is left out and counted
    in vouch_scrape_errors, so one outage (the broker) never hides the others (the database)."""

    def collect(self):
        from testimonials.observability import readiness

        errors = GaugeMetricFamily(
            "vouch_scrape_errors", "Parts of this scrape that could not be read.", labels=["part"]
        )

        depth = GaugeMetricFamily("vouch_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"])
        try:
            for queue, count in queue_depths().items():
                depth.add_metric([queue], count)
            yield depth
        except Exception:  # noqa: BLE001
            errors.add_metric(["queue_depth"], 1)

        waiting = GaugeMetricFamily("vouch_waiting_items", "Items waiting for a worker.", labels=["kind"])
        oldest = GaugeMetricFamily(
            "vouch_oldest_waiting_seconds", "Age of the item waiting longest (0 when none waits).", labels=["kind"]
        )
        try:
            for kind, (count, age) in oldest_waiting().items():
                waiting.add_metric([kind], count)
                oldest.add_metric([kind], age or 0.0)
            yield waiting
            yield oldest
        except Exception:  # noqa: BLE001
            errors.add_metric(["waiting"], 1)

        last = sweeper_last_run()
        if last is not None:
            yield GaugeMetricFamily(
                "vouch_sweeper_last_run_timestamp_seconds", "When the sweeper last finished (Unix time).", value=last
            )

        try:
            waiting_spool, held_spool = readiness.spool_depth()
            spool = GaugeMetricFamily(
                "vouch_spool_depth", "Accepted submissions in the local spool, by state.", labels=["state"]
            )
            spool.add_metric(["waiting"], waiting_spool)
            spool.add_metric(["held"], held_spool)
            yield spool
        except Exception:  # noqa: BLE001
            errors.add_metric(["spool"], 1)
        circuit = GaugeMetricFamily(
            "vouch_circuit_open", "1 while this process skips a failed service for a cooldown.", labels=["service"]
        )
        circuit.add_metric(["broker"], int(readiness.broker_circuit_open()))
        circuit.add_metric(["cache"], int(readiness.cache_circuit_open()))
        yield circuit
        free = GaugeMetricFamily("vouch_disk_free_bytes", "Free space on the disks Vouch writes to.", labels=["folder"])
        for name, folder in readiness.disk_folders().items():
            try:
                free.add_metric([name], readiness.free_bytes(folder))
            except OSError:
                errors.add_metric([f"disk_{name}"], 1)
        yield free
        yield errors


def exposition() -> bytes:
    """The text a scrape receives: this host's counted metrics (added up across processes in
    multiprocess mode), then the gauges measured now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    live = CollectorRegistry()
    live.register(LiveCollector())
    return generate_latest(counted) + generate_latest(live)
