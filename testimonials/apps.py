from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class TestimonialsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "testimonials"
    verbose_name = "Vouch"

    def ready(self) -> None:
        from testimonials.lifecycle.subscribers import discover

        # Every package's lifecycle subscriber (testimonials/<package>/subscriber.py) registers itself.
        discover()
        _make_folders()


def _make_folders() -> None:
    """The folders the embedded default writes to; settings only name them (importing them writes nothing)."""
    folders = [Path(settings.STATIC_ROOT)]
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folders += [Path(options[key]) for key in ("data_folder_in", "processed_folder", "control_folder")]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
