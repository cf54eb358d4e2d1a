"""Real services an integration test may stop, lock or kill: a throwaway Redis, a PostgreSQL table lock,
a worker's pool processes."""

from __future__ import annotations

import os
import socket
import subprocess
from contextlib import contextmanager

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


PG_BIN = "/usr/lib/postgresql/15/bin"


class PostgresServer:
    """A throwaway PostgreSQL cluster on a free port, that this test may stop and start at will.

    Never the shared server on 5432: other suites use it. The cluster is initialised in a temporary
    folder owned by the `postgres` system user (initdb refuses root), trusts local connections, and
    holds a copy of this test's database (schema and the rows migrations wrote), made with pg_dump.
    """

    def __init__(self) -> None:
        import tempfile

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.dir = tempfile.mkdtemp(prefix="vouch-pg-")
        self.data = os.path.join(self.dir, "data")
        os.chmod(self.dir, 0o777)
        self.name = connection.settings_dict["NAME"]
        self._as_postgres([f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync"])
        self.start()
        self._copy_test_database()

    def _as_postgres(self, cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(prefix + cmd, check=True, capture_output=True, text=True, **kwargs)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-o", options, "-w", "-l", f"{self.dir}/log", "start"])

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session (what a restart does), `immediate` is a crash."""
        self._as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"])

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        import shutil

        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.name}"

    def _copy_test_database(self) -> None:
        s = connection.settings_dict
        self._as_postgres(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.name])
        dump = subprocess.run(
            [
                "pg_dump",
                "-h",
                s.get("HOST") or "127.0.0.1",
                "-p",
                str(s.get("PORT") or 5432),
                "-U",
                "postgres",
                "--no-owner",
                s["NAME"],
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        subprocess.run(
            [
                "psql",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                self.name,
            ],
            input=dump,
            check=True,
            capture_output=True,
            text=True,
        )


@contextmanager
def django_uses(server: PostgresServer):
    """Point this test process's default database connection at `server` for the block."""
    from django.db import connections

    conn = connections["default"]
    conn.close()
    saved = dict(conn.settings_dict)
    conn.settings_dict.update({"HOST": "127.0.0.1", "PORT": str(server.port), "USER": "postgres", "PASSWORD": ""})
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict.clear()
        conn.settings_dict.update(saved)
