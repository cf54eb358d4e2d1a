"""Real services an integration test may stop, lock or kill: a throwaway Redis, a PostgreSQL table lock,
a worker's pool processes."""

from __future__ import annotations

import os
import socket
import subprocess

import kombu.pools
import psycopg
from django.db import connection

from config.celery import app
from tests.workers import wait_until


class RedisServer:
    """A throwaway redis-server this test may stop and start at will."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, limit=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=1).ping())
        except redis.RedisError:
            return False


def point_celery_at(url: str) -> None:
    """Make this test process send to `url` (the worker gets it through settings and its environment)."""
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    os.environ["CELERY_BROKER_URL"] = url
    # kombu caches connection and producer pools per broker URL, process-wide: drop them all.
    kombu.pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


class RowLock:
    """Hold one row locked FOR UPDATE from a second connection, so a worker blocks where it updates that row."""

    def __init__(self, table: str, row_id: int) -> None:
        s = connection.settings_dict
        self.conn = psycopg.connect(
            host=s.get("HOST") or "127.0.0.1",
            port=s.get("PORT") or 5432,
            user=s.get("USER") or "postgres",
            password=s.get("PASSWORD") or None,
            dbname=s["NAME"],
        )
        self.conn.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [row_id])

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


class TableLock:
    """Hold a PostgreSQL lock from a second connection, so a worker blocks where it writes that table."""

    def __init__(self, table: str) -> None:
        s = connection.settings_dict
        self.conn = psycopg.connect(
            host=s.get("HOST") or "127.0.0.1",
            port=s.get("PORT") or 5432,
            user=s.get("USER") or "postgres",
            password=s.get("PASSWORD") or None,
            dbname=s["NAME"],
        )
        # EXCLUSIVE still lets others read the table (the duplicate lookup), not write it.
        self.conn.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


def someone_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def pool_children(proc: subprocess.Popen) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]
