import os
from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class TestimonialsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "testimonials"
    verbose_name = "Vouch"

    def ready(self) -> None:
        from testimonials.lifecycle.subscribers import discover
        from testimonials.observability.metrics import connect_signals

        # Every package's lifecycle subscriber (testimonials/<package>/subscriber.py) registers itself.
        discover()
        # Task outcomes counted for /metrics, and each task's id in its log records.
        connect_signals()
        _make_folders()
        _keep_secret_key()


def _make_folders() -> None:
    """The folders the embedded default writes to; settings only name them (importing them writes nothing)."""
    folders = [Path(settings.STATIC_ROOT)]
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folders += [Path(options[key]) for key in ("data_folder_in", "processed_folder", "control_folder")]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)


def _keep_secret_key() -> None:
    """The embedded default's generated key goes to var/, once: later processes read it (settings.py)."""
    key = getattr(settings, "SECRET_KEY_TO_KEEP", "")
    path = Path(getattr(settings, "SECRET_KEY_FILE", ""))
    if not key or path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once keep the first one's key, never a mix.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
