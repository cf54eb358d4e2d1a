"""The Celery app. Settings come from Django settings (CELERY_* names); tasks from each package's tasks.py."""

import os
import pkgutil

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# filesystem:// (the embedded default) writes each message atomically: see config/broker.py.
TRANSPORT_ALIASES["filesystem"] = "config.broker:Transport"
# redis:// reuses one Redis client per channel instead of building one per publish: config/redis_clients.py.
TRANSPORT_ALIASES["redis"] = "config.redis_clients:Transport"

app = Celery("vouch")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _task_packages() -> list[str]:
    """The app and every package in it: Celery imports `<package>.tasks` where there is one."""
    import testimonials

    packages = [f"testimonials.{m.name}" for m in pkgutil.iter_modules(testimonials.__path__) if m.ispkg]
    return ["testimonials", *packages]


app.autodiscover_tasks(_task_packages)
