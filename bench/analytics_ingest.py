"""Analytics ingest, end to end, through the documented production path: gunicorn (gthread 2 x 4) ->
beacon endpoint -> Redis stream (appendonly, appendfsync always) -> `manage.py analytics_ingest` ->
PostgreSQL (day-partitioned raw events, rollups, exposures, conversions).

    .venv/bin/python bench/analytics_ingest.py [--database postgres://postgres@127.0.0.1:5432/vouch_analytics]
        [--seconds 20] [--clients 16] [--events 25] [--ingesters 1]

1. noop:    GET the beacon URL with the beacon's headers (405 from the beacon view before any work,
            through the whole middleware stack): the same-run reference for one request on this server;
2. healthz: GET /healthz (one SELECT 1), the reference the other benchmarks use;
3. beacon:  POST batches of --events events (one page view: an impression, views, a video's play and
            quartiles, clicks; 3% of page views also convert from the host page), each from its own
            visitor (X-Forwarded-For behind TRUSTED_PROXY_COUNT=1), as fast as --clients keep-alive
            connections allow, for --seconds, while the ingest worker drains;
4. drain:   wait until the buffer is empty: the end-to-end figure is events / (first beacon to last rollup).
Then it checks that every sent event is in PostgreSQL exactly once. The database is recreated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The same server, database and CPU accounting helpers as the submit benchmark.
from bench.submit_latency import _free_port, _machine_busy_seconds, _proc_cpu_seconds, _recreate_postgres

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
HOST = "https://shop.example.com"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
CONTENT_LENGTH_RE = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)
SETUP = """
import json, sys
HOST = "https://shop.example.com"
from testimonials.models import Brand, Widget
from tests.factories import TestimonialFactory
brand = Brand.objects.create(slug="bench", name="Bench", allowed_domains=[HOST])
widget = Widget.objects.create(brand=brand, name="Wall")
ids = [TestimonialFactory(brand=brand).public_id for _ in range(50)]
sys.stdout.write(json.dumps({"widget": widget.public_id, "cards": ids}))
"""


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            todo += [int(c) for c in (task / "children").read_text().split()]
    return found


def _request(method: str, path: str, body: bytes, headers: dict) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _drive(port: int, clients: int, requests: list[bytes], seconds: float) -> tuple[int, int, float, dict]:
    """Send requests in order over keep-alive connections until they run out or time is up."""
    index, done, statuses = 0, 0, {}
    deadline = time.monotonic() + seconds

    async def client():
        nonlocal index, done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < deadline and index < len(requests):
            raw = requests[index]
            index += 1
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            statuses[status] = statuses.get(status, 0) + 1
            match = CONTENT_LENGTH_RE.search(head)
            if match and int(match.group(1)):
                await reader.readexactly(int(match.group(1)))
            done += 1
        writer.close()

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(clients)))
    return done, index, time.monotonic() - started, statuses


def _page_view(n: int, cards: list[str], events: int, own: str) -> tuple[bytes, int]:
    """One visitor's page view as frame.js batches it: `events` events, ids unique to this view."""
    card = [cards[(n + k) % len(cards)] for k in range(8)]
    kinds = [("imp", "")] + [("view", c) for c in card]
    kinds += [("play", card[0]), ("q25", card[0]), ("q50", card[0]), ("q75", card[0]), ("done", card[0])]
    kinds += [("c_more", card[1]), ("c_author", card[2]), ("c_share", card[3]), ("c_wall", "")]
    while len(kinds) < events:
        kinds.append(("c_more", card[len(kinds) % 8]))
    batch = [[f"p{n:07d}x{i:03d}", kind, *([ref] if ref else [])] for i, (kind, ref) in enumerate(kinds[:events])]
    body = json.dumps({"o": HOST, "e": batch}, separators=(",", ":")).encode()
    return body, len(batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/vouch_analytics")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--events", type=int, default=25)
    parser.add_argument("--ingesters", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="vouch-bench-analytics-"))
    redis_port, web_port = _free_port(), _free_port()
    own = f"http://127.0.0.1:{web_port}"
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "VOUCH_HTTPS": "false",
        "VOUCH_READ_DOT_ENV": "false",
        "VOUCH_VAR_DIR": str(work / "var"),
        "VOUCH_PUBLIC_URL": own,
        "DATABASE_URL": args.database,
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/1",
        "ANALYTICS_BUFFER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_LEVEL": "WARNING",
        "SERVE_MEDIA": "false",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    procs: list[subprocess.Popen] = []
    try:
        redis_proc = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--dir", str(work),
             "--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        procs.append(redis_proc)
        _recreate_postgres(args.database)
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        setup = subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", SETUP], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        )
        facts = json.loads(setup.stdout.strip().splitlines()[-1])
        widget, cards = facts["widget"], facts["cards"]
        web = subprocess.Popen(
            [GUNICORN, "config.wsgi", "--workers", str(args.workers), "--threads", str(args.threads),
             "--worker-class", "gthread", "--bind", f"127.0.0.1:{web_port}", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        procs.append(web)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", web_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1.5)

        # Enough unique page views for the whole run at well above the target rate.
        views = int(30_000 * args.seconds / args.events) + 1000
        beacons = []
        frame_headers = {"Content-Type": "text/plain", "Origin": own, "User-Agent": UA}
        for n in range(views):
            body, count = _page_view(n, cards, args.events, own)
            headers = {**frame_headers, "X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"}
            beacons.append((_request("POST", f"/widgets/{widget}/events", body, headers), count))
            if n % 33 == 0:  # 3% of page views convert, from the host page
                convert = json.dumps({"e": [[f"c{n:07d}xconv", "convert", "", 49, "EUR", f"order-{n}"]]}).encode()
                beacons.append((_request("POST", f"/widgets/{widget}/events", convert,
                                         {**headers, "Origin": HOST}), 1))  # fmt: skip
        noop = [_request("GET", f"/widgets/{widget}/events", b"", frame_headers)] * 200_000
        health = [_request("GET", "/healthz", b"", {})] * 200_000
        warm = [_request("POST", f"/widgets/{widget}/events", b'{"o":"%s","e":[["warmup%04d","imp"]]}' % (
            HOST.encode(), i), frame_headers) for i in range(200)]  # fmt: skip
        asyncio.run(_drive(web_port, args.clients, warm, 10))

        server = _tree(web.pid)
        rows = []
        for name, requests, seconds in (("noop (405)", noop, args.seconds / 2), ("healthz", health, args.seconds / 2)):
            cpu0, (busy0, total0) = _proc_cpu_seconds(server), _machine_busy_seconds()
            done, _, took, statuses = asyncio.run(_drive(web_port, args.clients, requests, seconds))
            cpu1, (busy1, total1) = _proc_cpu_seconds(server), _machine_busy_seconds()
            rows.append((name, done, took, (cpu1 - cpu0) / max(done, 1), (busy1 - busy0) / (total1 - total0), statuses))

        ingesters = [
            subprocess.Popen(
                [PYTHON, "manage.py", "analytics_ingest", "--idle", "0.2"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
            )
            for _ in range(args.ingesters)
        ]
        procs += ingesters
        time.sleep(2)
        import redis

        stream = redis.Redis(port=redis_port, db=0)
        ingest_pids = [pid for p in ingesters for pid in _tree(p.pid)]
        cpu0, icpu0, (busy0, total0) = (
            _proc_cpu_seconds(server),
            _proc_cpu_seconds(ingest_pids),
            _machine_busy_seconds(),
        )
        started = time.monotonic()
        requests = [raw for raw, _ in beacons]
        done, _issued, took, statuses = asyncio.run(_drive(web_port, args.clients, requests, args.seconds))
        accepted_events = sum(count for _, count in beacons[:done])
        cpu1 = _proc_cpu_seconds(server)
        while stream.xlen("vouch:analytics:beacons") > 0:
            time.sleep(0.1)
        drained = time.monotonic() - started
        icpu1, (busy1, total1) = _proc_cpu_seconds(ingest_pids), _machine_busy_seconds()
        rows.append(("beacon", done, took, (cpu1 - cpu0) / max(done, 1), (busy1 - busy0) / (total1 - total0),
                     statuses))  # fmt: skip

        import psycopg

        with psycopg.connect(args.database) as conn:
            stored = conn.execute(
                "SELECT count(*) FROM testimonials_event WHERE event_id NOT LIKE 'warmup%'"
            ).fetchone()[0]
            views_rolled = conn.execute("SELECT coalesce(sum(views), 0) FROM testimonials_dailyrollup").fetchone()[0]
            parts = conn.execute(
                "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent "
                "WHERE p.relname = 'testimonials_event'"
            ).fetchone()[0]
        load = os.getloadavg()[0]
        setup = (
            f"gunicorn gthread {args.workers}x{args.threads}, {args.ingesters} ingest process(es), Redis appendfsync "
            f"always, {args.clients} keep-alive clients, {args.events} events per beacon"
        )
        print(f"\nmachine: {os.cpu_count()} cores, load average {load:.1f} at the end; {setup}\n")
        print("| phase | requests | req/s | gunicorn CPU ms/req | machine busy | statuses |")
        print("|---|---:|---:|---:|---:|---|")
        for name, count, secs, cpu, busy, sts in rows:
            print(f"| {name} | {count:,} | {count / secs:,.0f} | {cpu * 1000:.2f} | {busy:.0%} | {sts} |")
        noop_rate = rows[0][1] / rows[0][2]
        beacon_rate = done / took
        print(f"\nbeacon vs noop: {noop_rate / beacon_rate:.2f}x the time per request "
              f"(CPU: {rows[2][3] / rows[0][3]:.2f}x)")  # fmt: skip
        print(
            f"accepted: {accepted_events:,} events in {took:.1f} s = {accepted_events / took:,.0f} events/s at the door"
        )
        per_event = 1e6 * (icpu1 - icpu0) / max(accepted_events, 1)
        print(f"end to end (first beacon to last rollup): {accepted_events:,} events in {drained:.1f} s = "
              f"{accepted_events / drained:,.0f} events/s; ingest process CPU {per_event:.1f} µs/event")  # fmt: skip
        print(f"check: {stored:,} events stored (expected {accepted_events:,}), {views_rolled:,} views rolled up, "
              f"{parts} partitions")  # fmt: skip
        if stored != accepted_events:
            sys.exit("MISMATCH: events stored differ from events accepted")
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
