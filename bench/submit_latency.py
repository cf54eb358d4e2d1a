"""Text submission latency and throughput on the collection page, under gunicorn, on loopback.

    .venv/bin/python bench/submit_latency.py                      # SQLite (the embedded default)
    .venv/bin/python bench/submit_latency.py --database postgres://postgres@127.0.0.1:5432/vouch_bench

It sets up a throw-away Vouch (its own var dir, a demo form, collectstatic), starts gunicorn
(gthread, 2 workers x 4 threads: the fastest shape on 2 cores), and drives it with a bounded
number of client threads over keep-alive connections:

1. page:   GET the form (also collects one fresh form token per submission, untimed for phase 2);
2. submit: POST a text testimonial (rating, text, name, email, consent) -> 303 to the thank-you page;
3. health: GET /healthz, the reference measured in the same run (compare ratios, not absolutes).

The rate limit is switched off with SUBMIT_RATE_LIMIT=0 and the minimum fill time with
SUBMIT_MIN_SECONDS=0: every request would otherwise come from one address in a few milliseconds.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
TOKEN_RE = re.compile(rb'name="token" value="([^"]+)"')
SETUP = """
from testimonials.models import Brand, CollectionForm
brand, _ = Brand.objects.get_or_create(slug="bench", defaults={"name": "Bench Brand"})
CollectionForm.objects.get_or_create(brand=brand, slug="feedback", defaults={"title": "How did we do?"})
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(var_dir: Path, database: str | None) -> dict:
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "VOUCH_HTTPS": "false",
        "VOUCH_READ_DOT_ENV": "false",
        "VOUCH_VAR_DIR": str(var_dir),
        "SUBMIT_RATE_LIMIT": "0",
        "SUBMIT_MIN_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "SERVE_MEDIA": "false",
    }
    env.pop("VOUCH_TESTING", None)
    if database:
        env["DATABASE_URL"] = database
    else:
        env.pop("DATABASE_URL", None)
    return env


def _recreate_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def _flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()  # nothing consumes the bench's processing messages


def _manage(env: dict, *args: str, stdin: str | None = None) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, input=stdin, text=True)


class Client:
    """One keep-alive connection; reconnects if the server closed it."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def _run_phase(port: int, clients: int, jobs: list, work, rate: float = 0) -> tuple[list[float], float, int]:
    """Run `work(client, job) -> ok` over `jobs` with `clients` threads; latencies in ms.

    rate=0: closed loop, each client sends as soon as its previous answer arrived (saturation).
    rate>0: the clients together start `rate` requests per second on a fixed schedule (a steady
    load below saturation, where latency is service time rather than queueing).
    """
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    queue = list(jobs)

    def worker(index: int):
        nonlocal errors
        client = Client(port)
        interval = clients / rate if rate else 0
        next_at = time.perf_counter() + (index * interval / clients if rate else 0)
        while True:
            with lock:
                if not queue:
                    return
                job = queue.pop()
            if rate:
                time.sleep(max(0.0, next_at - time.perf_counter()))
                next_at += interval
            started = time.perf_counter()
            ok = work(client, job)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, errors


def _summary(name: str, latencies: list[float], seconds: float, errors: int) -> dict:
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    row = {
        "phase": name,
        "n": len(ordered),
        "p50": statistics.median(ordered),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "rps": len(ordered) / seconds,
        "errors": errors,
    }
    print(
        f"{name:<8} n={row['n']:<5} p50={row['p50']:7.1f} ms  p95={row['p95']:7.1f} ms  p99={row['p99']:7.1f} ms  "
        f"{row['rps']:7.1f} req/s  errors={errors}"
    )
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="postgres://... (recreated!); SQLite when omitted")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--submissions", type=int, default=2000, help="closed-loop submissions, over all rounds")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rate", type=float, default=50, help="requests/s of the steady-load phase (0: skip it)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--broker",
        help="CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/13 (flushed!); the filesystem broker if omitted",
    )
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="vouch-bench-"))
    env = _env(var_dir, args.database)
    if args.broker:
        env["CELERY_BROKER_URL"] = args.broker
        _flush_redis(args.broker)
    if args.database:
        _recreate_postgres(args.database)
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "createcachetable")
    _manage(env, "collectstatic", "--noinput", "-v0")
    _manage(env, "shell", stdin=SETUP)

    port = _free_port()
    server = subprocess.Popen(
        [GUNICORN, "config.wsgi", "-b", f"127.0.0.1:{port}", "-k", "gthread", "-w", str(args.workers),
         "--threads", str(args.threads), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                if Client(port).request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        form_path = "/c/bench/feedback/"
        engine = "PostgreSQL" if args.database else "SQLite"
        print(
            f"{engine}, gunicorn gthread {args.workers}x{args.threads}, {args.clients} clients, {os.cpu_count()} cpus"
        )

        broker = "filesystem" if not args.broker else args.broker.split(":", 1)[0]
        print(f"broker: {broker}; {args.rounds} interleaved rounds, medians below")

        def get_page(client: Client, _job, tokens: list) -> bool:
            status, body = client.request("GET", form_path)
            match = TOKEN_RE.search(body)
            if match:
                tokens.append(match.group(1).decode())
            return status == 200 and match is not None

        def submit(client: Client, token: str) -> bool:
            body = urlencode(
                {
                    "token": token,
                    "rating": "5",
                    "text": "The onboarding call saved us a week of work, and support answered within the hour.",
                    "author_name": "Bench Customer",
                    "author_email": "bench@example.com",
                    "consent_given": "on",
                }
            ).encode()
            status, _ = client.request("POST", form_path, body, {"Content-Type": "application/x-www-form-urlencoded"})
            return status == 303

        def health(client: Client, _job) -> bool:
            return client.request("GET", "/healthz")[0] == 200

        per_round = args.submissions // args.rounds
        steady = int(args.rate * 4) if args.rate else 0  # four seconds of steady load per round
        single = 100
        phases: dict[str, list[dict]] = {}
        expected = 0
        for round_no in range(1, args.rounds + 1):
            print(f"-- round {round_no}  load average {os.getloadavg()[0]:.1f}")
            tokens: list[str] = []
            fetch = functools.partial(get_page, tokens=tokens)
            rows = {
                "page": _summary("page", *_run_phase(port, args.clients, range(per_round + steady + single), fetch))
            }
            closed, paced, alone = tokens[:per_round], tokens[per_round : per_round + steady], tokens[-single:]
            rows["submit"] = _summary("submit", *_run_phase(port, args.clients, closed, submit))
            if paced:
                rows["steady"] = _summary(
                    f"@{args.rate:g}/s", *_run_phase(port, args.clients, paced, submit, args.rate)
                )
            rows["alone"] = _summary("1 client", *_run_phase(port, 1, alone, submit))
            rows["healthz"] = _summary("healthz", *_run_phase(port, args.clients, range(per_round), health))
            expected += sum(rows[k]["n"] - rows[k]["errors"] for k in ("submit", "steady", "alone") if k in rows)
            for name, row in rows.items():
                phases.setdefault(name, []).append(row)

        med = lambda name, key: statistics.median(r[key] for r in phases[name])  # noqa: E731
        print("\n| phase | p50 ms | p95 ms | p99 ms | req/s | p50 vs healthz |\n|---|---:|---:|---:|---:|---:|")
        for name in phases:
            ratio = statistics.median(r["p50"] / h["p50"] for r, h in zip(phases[name], phases["healthz"], strict=True))
            print(
                f"| {name} | {med(name, 'p50'):.1f} | {med(name, 'p95'):.1f} | {med(name, 'p99'):.1f} | "
                f"{med(name, 'rps'):.0f} | {ratio:.1f}x |"
            )
        errors = sum(r["errors"] for rows in phases.values() for r in rows)
        stored = subprocess.run(
            [PYTHON, "manage.py", "shell", "-c",
             "from testimonials.models import Testimonial; print(Testimonial.objects.count())"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        print(f"errors: {errors}; testimonials stored: {stored} (expected {expected})")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        if args.broker:
            _flush_redis(args.broker)
        shutil.rmtree(var_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
