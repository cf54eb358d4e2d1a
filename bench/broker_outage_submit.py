"""Submit latency while the broker and cache (Redis) are frozen or dead, with and without the circuit breakers.

    .venv/bin/python bench/broker_outage_submit.py                 # 80 submits per phase, 8 clients
    .venv/bin/python bench/broker_outage_submit.py --submits 200 --clients 16

Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and `redis-server`. It uses its own database
(vouch_bench_outage, emptied first), its own redis-server on a free port as both the Celery broker
and the cache (rate limits), and gunicorn (gthread, 2 workers x 4 threads, the README's command).
No worker runs: the submissions wait as received, which is what an outage looks like.

For each of two configurations started the same way, in the same run:
- breakers (the default): VOUCH_BROKER_COOLDOWN_SECONDS=10 and VOUCH_CACHE_COOLDOWN_SECONDS=10;
- reference: both cooldowns 0, so every request tries Redis again and waits out its timeouts, as
  before the breakers;
four phases: Redis healthy, Redis frozen (SIGSTOP: accepts nothing, answers nothing), Redis killed,
Redis back. It reports p50/p95/max of the POST (token fetched beforehand, untimed) and the statuses.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
DATABASE = "vouch_bench_outage"
TOKEN_RE = re.compile(rb'name="token" value="([^"]+)"')
SETUP = """
from testimonials.models import Brand, CollectionForm
brand, _ = Brand.objects.get_or_create(slug="bench", defaults={"name": "Bench Brand"})
CollectionForm.objects.get_or_create(brand=brand, slug="feedback", defaults={"title": "How did we do?"})
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    wait_port(port)
    return proc


def request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def phase(port: int, submits: int, clients: int) -> dict:
    tokens = []
    for _ in range(submits):
        status, page = request(port, "GET", "/c/bench/feedback/")
        found = TOKEN_RE.search(page)
        if found is None:
            raise RuntimeError(f"the form page answered {status}: {page[:300]!r}")
        tokens.append(found.group(1).decode())
    times: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(mine: list[str]) -> None:
        for n, token in enumerate(mine):
            body = urlencode(
                {
                    "token": token,
                    "rating": "5",
                    "text": f"Quick delivery and kind staff, order {token[-8:]} {n}.",
                    "author_name": "Bench",
                    "author_email": "bench@example.com",
                    "consent_given": "on",
                }
            ).encode()
            started = time.perf_counter()
            status, _ = request(port, "POST", "/c/bench/feedback/", body)
            with lock:
                times.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client, args=(tokens[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times.sort()
    return {
        "p50": statistics.median(times) * 1000,
        "p95": times[int(len(times) * 0.95) - 1] * 1000,
        "max": times[-1] * 1000,
        "statuses": statuses,
    }


def run(config: str, cooldown: str, args, var_dir: Path) -> list[tuple[str, dict]]:
    redis_port, web_port = free_port(), free_port()
    url = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "VOUCH_HTTPS": "false",
        "VOUCH_READ_DOT_ENV": "false",
        "VOUCH_VAR_DIR": str(var_dir),
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
        "SUBMIT_MIN_SECONDS": "0",
        "SUBMIT_RATE_LIMIT": "100000/h",  # counted in the cache, so the cache is on the path as in production
        "LOG_LEVEL": "ERROR",
        "VOUCH_BROKER_COOLDOWN_SECONDS": cooldown,
        "VOUCH_CACHE_COOLDOWN_SECONDS": cooldown,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    redis = start_redis(redis_port)
    web = subprocess.Popen(
        [
            GUNICORN,
            "config.wsgi",
            "--workers",
            "2",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--bind",
            f"127.0.0.1:{web_port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(var_dir / f"gunicorn-{config}.log", "w"),
    )
    results = []
    try:
        wait_port(web_port)
        request(web_port, "GET", "/c/bench/feedback/")
        results.append(("healthy", phase(web_port, args.submits, args.clients)))
        redis.send_signal(signal.SIGSTOP)
        results.append(("frozen", phase(web_port, args.submits, args.clients)))
        redis.send_signal(signal.SIGKILL)
        redis.wait()
        results.append(("killed", phase(web_port, args.submits, args.clients)))
        redis = start_redis(redis_port)
        time.sleep(float(cooldown) + 1)  # each process tries again once its cooldown is over
        results.append(("back", phase(web_port, args.submits, args.clients)))
    finally:
        web.terminate()
        web.wait()
        redis.kill()
        redis.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submits", type=int, default=80)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"DROP DATABASE IF EXISTS {DATABASE}"], check=True
    )
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", f"CREATE DATABASE {DATABASE}"], check=True)
    var_dir = Path(tempfile.mkdtemp(prefix="vouch-bench-outage-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "VOUCH_VAR_DIR": str(var_dir),
        "VOUCH_READ_DOT_ENV": "false",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "VOUCH_HTTPS": "false",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([PYTHON, "manage.py", "shell", "-c", SETUP], cwd=ROOT, env=env, check=True)
    subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    print(f"load average before: {os.getloadavg()[0]:.2f}; {args.submits} submits per phase, {args.clients} clients")
    print(f"{'config':<10} {'phase':<8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  statuses")
    for config, cooldown in (("breakers", "10"), ("reference", "0")):
        for name, r in run(config, cooldown, args, var_dir):
            print(f"{config:<10} {name:<8} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['max']:>8.1f}  {r['statuses']}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
