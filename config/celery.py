"""The Celery app. Settings come from Django settings (CELERY_* names); tasks from each package's tasks.py."""

import os
import pkgutil

from celery import Celery, signals
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# filesystem:// (the embedded default) writes each message atomically: see config/broker.py.
TRANSPORT_ALIASES["filesystem"] = "config.broker:Transport"
# redis:// keeps a worker alive when Redis dies under it (config/broker.py) and reuses one Redis client
# per channel instead of building one per publish (config/redis_clients.py).
TRANSPORT_ALIASES["redis"] = "config.broker:RedisTransport"
TRANSPORT_ALIASES["rediss"] = "config.broker:RedisTransport"

app = Celery("vouch")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _task_packages() -> list[str]:
    """The app and every package in it: Celery imports `<package>.tasks` where there is one."""
    import testimonials

    packages = [f"testimonials.{m.name}" for m in pkgutil.iter_modules(testimonials.__path__) if m.ispkg]
    return ["testimonials", *packages]


app.autodiscover_tasks(_task_packages)


@signals.task_prerun.connect
@signals.task_postrun.connect
def _drop_dead_database_connections(**kwargs) -> None:
    """Before and after every task, as Django does around every request: a connection that failed
    (PostgreSQL restarted) is closed and opened again on first use, and with CONN_HEALTH_CHECKS the
    next use checks it first. Celery's own fixup only reconnects every CELERY_DB_REUSE_MAX tasks, so a
    worker process failed 442 tasks in a row after a restart (tests/integration/test_database_restart.py)."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:  # a task run eagerly inside a test's transaction keeps it
            conn.close_if_unusable_or_obsolete()
