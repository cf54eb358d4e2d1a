"""What /readyz checks: the database answers, the broker answers, and the disks written to have room.

Each check returns None when fine, or a reason an operator can act on. The circuit breakers
(testimonials/queue.py, testimonials/resilient_cache.py) and the submission spool (testimonials/spool/)
are read, not checked: an open breaker or a spool with entries means an outage is being ridden out,
which metrics show; /readyz itself asks the database, the broker and the disks directly.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from django.conf import settings
from django.db import connection


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", with its reason
        return f"database unavailable: {exc.__class__.__name__}: {str(exc).strip()[:200]}"
    return None


def check_broker() -> str | None:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            return f"broker folder {folder} missing or not writable"
        return None
    if url.startswith(("redis://", "rediss://")):
        import redis

        try:
            client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
            try:
                client.ping()
            finally:
                client.close()
        except redis.RedisError as exc:
            return f"broker unavailable: {exc.__class__.__name__}: {str(exc)[:200]}"
        return None
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
    except Exception as exc:  # noqa: BLE001
        return f"broker unavailable: {exc.__class__.__name__}: {str(exc)[:200]}"
    return None


def broker_circuit_open() -> bool:
    """Whether this process pauses enqueueing after a broker failure (the sweeper sends what it skips)."""
    from testimonials import queue

    return queue.broker_circuit_state()["state"] == "open"


def cache_circuit_open() -> bool:
    """Whether this process uses its local cache because the Redis cache failed moments ago."""
    from testimonials.resilient_cache import cache_circuit_state

    return cache_circuit_state()["state"] == "open"


def spool_depth() -> tuple[int, int]:
    """(waiting, held): submissions accepted into the spool and not stored yet, and those the
    replay refused and kept for an operator."""
    from testimonials.spool.services import held_count, pending_count

    return pending_count(), held_count()


def disk_folders() -> dict[str, Path]:
    """The local folders Vouch writes customers' files to (none of them when media live in S3)."""
    folders: dict[str, Path] = {}
    if settings.STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
        folders["media"] = Path(settings.MEDIA_ROOT)
    if settings.STORAGES["private"]["BACKEND"].endswith("FileSystemStorage"):
        folders["private"] = Path(settings.PRIVATE_MEDIA_ROOT)
    from testimonials.spool.services import spool_dir

    folders["spool"] = spool_dir()
    return folders


def _existing(path: Path) -> Path:
    # A folder not created yet (nothing uploaded so far) lives on the disk of its nearest parent.
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def free_bytes(path: Path) -> int:
    return shutil.disk_usage(_existing(path)).free


def check_disk() -> str | None:
    needed = settings.VOUCH_READY_MIN_FREE_MB * 1024 * 1024
    short = []
    for name, folder in disk_folders().items():
        try:
            free = free_bytes(folder)
        except OSError as exc:
            short.append(f"{name} ({folder}): {exc.strerror or exc}")
            continue
        if free < needed:
            minimum = settings.VOUCH_READY_MIN_FREE_MB
            short.append(f"{name} ({folder}): {free // (1024 * 1024)} MB free, below {minimum} MB")
    return "low disk space: " + "; ".join(short) if short else None


def readiness() -> dict[str, str | None]:
    """Every check's reason (None when fine), in a fixed order."""
    return {"database": check_database(), "broker": check_broker(), "disk": check_disk()}
