"""Webhooks: deliveries per second to a local receiver, and approval-to-receipt latency (p50/p95).

    .venv/bin/python bench/webhook_delivery.py                    # 2000 deliveries, then 10 approvals/s for 20 s
    .venv/bin/python bench/webhook_delivery.py --count 500 --seconds 10

Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and the `redis-server` binary. It uses its own
database (vouch_bench_webhooks, emptied first), its own redis-server on a free port, a threaded HTTP
receiver on loopback in this process (tests/receiver.py), and one `celery -A config worker
--concurrency=2`. In one run:

1. reference: the same signed POSTs sent by one process straight through `safehttp.send` (a new
   connection each, as deliveries do), with no database and no queue;
2. throughput: N delivery rows waiting, one message each, until every one is delivered;
3. latency: `testimonial_approve` at a steady rate; for each, the time from the call to the moment the
   receiver reads the signed `testimonial.approved` (lifecycle dispatch, subscriber, delivery task, HTTP).

Compare the ratios between lines of one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "vouch_bench_webhooks"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")


def start_worker(env: dict, concurrency: int) -> subprocess.Popen:
    log = Path(tempfile.mkstemp(suffix=".log")[1])
    cmd = [
        sys.executable, "-m", "celery", "-A", "config", "worker", f"--concurrency={concurrency}", "--queues=text",
        "--pool=prefork", "--without-gossip", "--without-mingle", "--loglevel=WARNING",
        f"--hostname=bench-hooks-{os.getpid()}@localhost",
    ]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    from config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited:\n{log.read_text()[-3000:]}")
        if app.control.ping(timeout=0.5):
            return proc
    raise RuntimeError(f"worker not ready:\n{log.read_text()[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="deliveries in the throughput phase")
    parser.add_argument("--rate", type=float, default=10.0, help="approvals per second in the latency phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the latency phase")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    port = free_port()
    redis_proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    env = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "VOUCH_HTTPS": "false",
        "VOUCH_READ_DOT_ENV": "false",
        "VOUCH_VAR_DIR": tempfile.mkdtemp(prefix="vouch-bench-"),
        "VOUCH_OUTBOUND_ALLOW_LOOPBACK": "true",  # the receiver is on loopback: benchmarks only
    }
    os.environ.update(env)
    ensure_database()
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from testimonials import queue, safehttp
    from testimonials.models import Brand, Membership, Testimonial
    from testimonials.services.decisions import testimonial_approve
    from testimonials.webhooks import payloads, services
    from testimonials.webhooks.models import WebhookDelivery, WebhookEndpoint
    from testimonials.webhooks.tasks import webhook_deliver_task
    from tests.receiver import Receiver

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Testimonial._meta.db_table}, {WebhookEndpoint._meta.db_table} CASCADE")
    brand, _ = Brand.objects.update_or_create(slug="bench", defaults={"name": "Bench"})
    owner, _ = get_user_model().objects.get_or_create(username="bench-owner", defaults={"email": "o@example.com"})
    Membership.objects.get_or_create(user=owner, brand=brand, defaults={"role": Membership.Role.OWNER})
    results: dict = {"count": args.count, "workers": args.workers, "load_average_before": os.getloadavg()}

    with Receiver() as receiver:
        endpoint = services.webhook_endpoint_create(
            brand=brand, actor=owner, url=receiver.url(), events_=["testimonial.approved"], name="bench"
        )
        sample = Testimonial.objects.create(
            brand=brand, author_name="Bench Ada", rating=5, text="A short and happy review for the payload.",
            state=Testimonial.State.APPROVED,
        )  # fmt: skip
        data = payloads.testimonial_payload(Testimonial.objects.select_related("brand", "form").get(id=sample.id))

        # 1. Reference: the same signed bodies, one process, straight to the receiver.
        reference = WebhookDelivery(endpoint=endpoint, brand=brand, event_type="testimonial.approved", payload=data)
        body = services.message_body(reference)
        destination = safehttp.resolve(receiver.url(), allow_loopback=True)
        started = time.perf_counter()
        sample_size = min(args.count, 1000)
        for _ in range(sample_size):
            safehttp.send(destination, body=body, headers=services.message_headers(reference, body, timestamp=1))
        results["reference_raw_posts_per_s"] = sample_size / (time.perf_counter() - started)
        receiver.requests.clear()

        # 2. Throughput: N waiting deliveries, one message each, two worker processes.
        worker = start_worker(env, args.workers)
        try:
            rows = WebhookDelivery.objects.bulk_create(
                WebhookDelivery(endpoint=endpoint, brand=brand, event_type="testimonial.approved", payload=data)
                for _ in range(args.count)
            )
            started = time.perf_counter()
            for row in rows:
                queue.send(webhook_deliver_task, row.id)
            deadline = time.monotonic() + 600
            while WebhookDelivery.objects.filter(status="succeeded").count() < args.count:
                if time.monotonic() > deadline:
                    raise RuntimeError("deliveries did not finish")
                time.sleep(0.05)
            results["deliveries_per_s"] = args.count / (time.perf_counter() - started)
            results["deliveries_vs_raw"] = results["deliveries_per_s"] / results["reference_raw_posts_per_s"]

            # 3. Latency: approval to receipt, at a steady rate.
            receiver.requests.clear()
            sent_at: dict[str, float] = {}
            total = int(args.rate * args.seconds)
            items = [
                Testimonial.objects.create(
                    brand=brand,
                    author_name=f"Reviewer {n}",
                    rating=5,
                    text="Lovely service, would buy again.",
                    state=Testimonial.State.PENDING_REVIEW,
                )
                for n in range(total)
            ]
            start = time.monotonic()
            for n, item in enumerate(items):
                wait = start + n / args.rate - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                sent_at[item.public_id] = time.monotonic()
                testimonial_approve(testimonial=item, actor=owner)
            deadline = time.monotonic() + 120
            while len(receiver.requests) < total and time.monotonic() < deadline:
                time.sleep(0.05)
            latencies = [
                (request.at - sent_at[json.loads(request.body)["data"]["id"]]) * 1000
                for request in receiver.requests
                if json.loads(request.body)["data"]["id"] in sent_at
            ]
            results["latency_received"] = f"{len(latencies)}/{total}"
            results["latency_ms_p50"] = percentile(latencies, 0.5)
            results["latency_ms_p95"] = percentile(latencies, 0.95)
            results["latency_ms_max"] = max(latencies)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            redis_proc.terminate()
    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=2, default=lambda v: round(v, 3) if isinstance(v, float) else str(v)))


if __name__ == "__main__":
    main()
