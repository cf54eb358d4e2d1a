"""Start a real `celery worker` process against the database the test is using.

Used by the embedded suite (SQLite file + filesystem broker) and the integration suite
(PostgreSQL + Redis). The worker runs as its own process, exactly as in production.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database this test process is using (pytest-django's test database)."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


@contextmanager
def celery_worker(
    *, concurrency: int = 1, queues: str = "text,media,sweeper", extra_env: dict | None = None, beat: bool = False
):
    """Run a worker until the block ends; yields the Popen. Its log is printed if the block fails."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "VOUCH_READ_DOT_ENV": "false",
        "VOUCH_VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        **(extra_env or {}),
    }
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        f"--concurrency={concurrency}",
        f"--queues={queues}",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--pool=prefork",
        f"--hostname=test-{os.getpid()}-{time.monotonic_ns()}@localhost",
    ]
    if beat:
        cmd += ["--beat", f"--schedule={tempfile.mkdtemp()}/beat"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(proc, Path(log.name))
        yield proc
    except BaseException:
        print("---- worker log ----\n" + Path(log.name).read_text()[-6000:])
        raise
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
        os.unlink(log.name)


def _wait_ready(proc: subprocess.Popen, log: Path, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        if " ready." in log.read_text():
            return
        time.sleep(0.2)
    raise RuntimeError(f"worker not ready after {limit}s:\n{log.read_text()[-4000:]}")


def wait_until(predicate, *, limit: float = 30.0, every: float = 0.1):
    """Poll until predicate() is truthy (returns it) or fail after `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition not met within {limit}s")
