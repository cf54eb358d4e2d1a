"""Text submission latency and throughput on the collection page, under gunicorn, on loopback.

    .venv/bin/python bench/submit_latency.py                      # SQLite (the embedded default)
    .venv/bin/python bench/submit_latency.py --database postgres://postgres@127.0.0.1:5432/vouch_bench

It sets up a throw-away Vouch (its own var dir, a demo form, collectstatic), starts gunicorn
(gthread, 2 workers x 4 threads, the production command of the README), and drives it with a
bounded number of clients over keep-alive connections on 127.0.0.1. The clients share the machine
with the server, so each phase also reports the CPU the load generator itself used, the CPU of
gunicorn (master and workers) per request, and how busy the whole machine was (/proc/stat). The
default client is one http.client thread per client (--client threads); --client asyncio drives
the same requests from one asyncio thread on raw sockets. Both measured 0.3-0.5 ms of client CPU
per request, 3-5% of the machine's busy time (docs/benchmarks.md).

1. page:   GET the form (also collects one fresh form token per submission, untimed for phase 2);
2. submit: POST a text testimonial (rating, text, name, email, consent) -> 303 to the thank-you page;
3. health: GET /healthz, the reference measured in the same run (compare ratios, not absolutes).

The rate limit is switched off with SUBMIT_RATE_LIMIT=0 and the minimum fill time with
SUBMIT_MIN_SECONDS=0: every request would otherwise come from one address in a few milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
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
CONTENT_LENGTH_RE = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)
CLOSE_RE = re.compile(rb"\r\nconnection: *close", re.IGNORECASE)
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
    env.pop("DJANGO_SETTINGS_MODULE", None)
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
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
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


# --------------------------------------------------------------------------- CPU accounting


def _proc_cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes (gone ones count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, summed over cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values) - idle) / tick, sum(values) / tick


class Meter:
    """CPU used during one phase: this process (the load generator), gunicorn, and the whole machine."""

    server_pids: list[int] = []

    def __enter__(self):
        self.client = time.process_time()
        self.server = _proc_cpu_seconds(self.server_pids)
        self.busy, self.total = _machine_busy_seconds()
        return self

    def __exit__(self, *exc):
        self.client = time.process_time() - self.client
        self.server = _proc_cpu_seconds(self.server_pids) - self.server
        busy, total = _machine_busy_seconds()
        self.busy, self.total = busy - self.busy, total - self.total


# --------------------------------------------------------------------------- clients


class AsyncClient:
    """One keep-alive HTTP/1.1 connection on a raw asyncio stream; reconnects if the server closed it."""

    def __init__(self, port: int):
        self.port = port
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n"
        if body is not None:
            head += f"Content-Length: {len(body)}\r\n"
        raw = head.encode() + b"\r\n" + (body or b"")
        for attempt in range(2):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
                self.writer.write(raw)
                response_head = await self.reader.readuntil(b"\r\n\r\n")
                status = int(response_head[9:12])
                match = CONTENT_LENGTH_RE.search(response_head)
                content = await self.reader.readexactly(int(match.group(1))) if match else b""
                if CLOSE_RE.search(response_head):
                    self.close()
                return status, content
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _run_phase_async(port: int, clients: int, jobs, work, rate: float = 0) -> tuple[list[float], float, int]:
    """The same phase as _run_phase, from one asyncio thread; `work` is a coroutine function."""
    latencies: list[float] = []
    errors = 0
    queue = list(jobs)

    async def worker(index: int):
        nonlocal errors
        client = AsyncClient(port)
        interval = clients / rate if rate else 0
        next_at = time.perf_counter() + (index * interval / clients if rate else 0)
        while queue:
            job = queue.pop()
            if rate:
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
                next_at += interval
            started = time.perf_counter()
            ok = await work(client, job)
            latencies.append((time.perf_counter() - started) * 1000)
            errors += 0 if ok else 1
        client.close()

    async def run():
        await asyncio.gather(*(worker(i) for i in range(clients)))

    started = time.perf_counter()
    asyncio.run(run())
    return latencies, time.perf_counter() - started, errors


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


def _summary(name: str, latencies: list[float], seconds: float, errors: int, meter: Meter) -> dict:
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
        "client_ms": meter.client * 1000 / len(ordered),
        "server_ms": meter.server * 1000 / len(ordered),
        "client_share": meter.client / meter.busy if meter.busy else 0,
        "busy": meter.busy / meter.total if meter.total else 0,
    }
    print(
        f"{name:<8} n={row['n']:<5} p50={row['p50']:7.1f} ms  p95={row['p95']:7.1f} ms  p99={row['p99']:7.1f} ms  "
        f"{row['rps']:7.1f} req/s  errors={errors}  cpu/req: client {row['client_ms']:.2f} ms, "
        f"gunicorn {row['server_ms']:.2f} ms; machine {row['busy']:.0%} busy, "
        f"{row['client_share']:.0%} of it the client"
    )
    return row


def _multipart(fields: dict, *, empty_files: tuple = ()) -> tuple[bytes, str]:
    """The body a browser sends for the form (enctype multipart/form-data) with its file inputs left empty."""
    boundary = "----VouchBench7MA4YWxkTrZu0gW"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
        for name in empty_files
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode(), f"multipart/form-data; boundary={boundary}"


def _awaitable(work):
    """A phase's work for the asyncio client: the same function, awaiting the client's request."""

    async def run(client: AsyncClient, job, **kwargs) -> bool:
        pending = []

        class Recorder:
            def request(self, *args, **options):
                pending.append((args, options))
                return 0, b""

        work(Recorder(), job, **kwargs)  # captures the request the function makes; then send it for real
        args, options = pending[0]
        response = await client.request(*args, **options)
        replay = iter([response])

        class Replayer:
            def request(self, *_args, **_kwargs):
                return next(replay)

        return work(Replayer(), job, **kwargs)

    return run


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
        "--body", choices=("urlencoded", "multipart"), default="urlencoded",
        help="how a submission is encoded; a browser sends multipart (the form takes files) with empty file parts",
    )  # fmt: skip
    parser.add_argument(
        "--client", choices=("threads", "asyncio"), default="threads",
        help="load generator: one asyncio thread on raw sockets, or one http.client thread per client",
    )  # fmt: skip
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
        Meter.server_pids = [server.pid, *_children(server.pid)]
        form_path = "/c/bench/feedback/"
        engine = "PostgreSQL" if args.database else "SQLite"
        print(
            f"{engine}, gunicorn gthread {args.workers}x{args.threads} (pids {Meter.server_pids}), "
            f"{args.clients} clients ({args.client}), {args.body} bodies, {os.cpu_count()} cpus"
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
            fields = {
                "token": token,
                "rating": "5",
                "text": "The onboarding call saved us a week of work, and support answered within the hour.",
                "author_name": "Bench Customer",
                "author_email": "bench@example.com",
                "consent_given": "on",
            }
            if args.body == "multipart":
                body, content_type = _multipart(fields, empty_files=("avatar", "photo", "video"))
            else:
                body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
            status, _ = client.request("POST", form_path, body, {"Content-Type": content_type})
            return status == 303

        def health(client: Client, _job) -> bool:
            return client.request("GET", "/healthz")[0] == 200

        if args.client == "asyncio":
            get_page, submit, health = (_awaitable(fn) for fn in (get_page, submit, health))
            run_phase = _run_phase_async
        else:
            run_phase = _run_phase

        def measured(name: str, clients: int, jobs, work, rate: float = 0) -> dict:
            with Meter() as meter:
                result = run_phase(port, clients, jobs, work, rate)
            return _summary(name, *result, meter)

        per_round = args.submissions // args.rounds
        steady = int(args.rate * 4) if args.rate else 0  # four seconds of steady load per round
        single = 100
        phases: dict[str, list[dict]] = {}
        expected = 0
        for round_no in range(1, args.rounds + 1):
            print(f"-- round {round_no}  load average {os.getloadavg()[0]:.1f}")
            tokens: list[str] = []
            fetch = functools.partial(get_page, tokens=tokens)
            rows = {"page": measured("page", args.clients, range(per_round + steady + single), fetch)}
            closed, paced, alone = tokens[:per_round], tokens[per_round : per_round + steady], tokens[-single:]
            rows["submit"] = measured("submit", args.clients, closed, submit)
            if paced:
                rows["steady"] = measured(f"@{args.rate:g}/s", args.clients, paced, submit, args.rate)
            rows["alone"] = measured("1 client", 1, alone, submit)
            rows["healthz"] = measured("healthz", args.clients, range(per_round), health)
            expected += sum(rows[k]["n"] - rows[k]["errors"] for k in ("submit", "steady", "alone") if k in rows)
            for name, row in rows.items():
                phases.setdefault(name, []).append(row)

        med = lambda name, key: statistics.median(r[key] for r in phases[name])  # noqa: E731
        print(
            "\n| phase | p50 ms | p95 ms | p99 ms | req/s | p50 vs healthz | gunicorn CPU/req | client CPU/req "
            "| machine busy | client share |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        )
        for name in phases:
            ratio = statistics.median(r["p50"] / h["p50"] for r, h in zip(phases[name], phases["healthz"], strict=True))
            print(
                f"| {name} | {med(name, 'p50'):.1f} | {med(name, 'p95'):.1f} | {med(name, 'p99'):.1f} | "
                f"{med(name, 'rps'):.0f} | {ratio:.1f}x | {med(name, 'server_ms'):.2f} ms | "
                f"{med(name, 'client_ms'):.2f} ms | {med(name, 'busy'):.0%} | {med(name, 'client_share'):.0%} |"
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
