"""The Celery app. Settings come from Django settings (CELERY_* names); tasks from each package's tasks.py."""

import os
import pkgutil

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("vouch")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _task_packages() -> list[str]:
    """The app and every package in it: Celery imports `<package>.tasks` where there is one."""
    import testimonials

    packages = [f"testimonials.{m.name}" for m in pkgutil.iter_modules(testimonials.__path__) if m.ispkg]
    return ["testimonials", *packages]


app.autodiscover_tasks(_task_packages)
