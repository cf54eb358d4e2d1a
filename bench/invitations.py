"""Invitations: sends per second into a local SMTP sink beside raw smtplib, a 10,000-row CSV import (time and
peak memory), and reminder planning with 100,000 open invitations.

    .venv/bin/python bench/invitations.py                      # all three, about 2 minutes
    .venv/bin/python bench/invitations.py --send 2000 --rows 10000 --open 100000

Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and the `redis-server` binary. It uses its own
database (vouch_bench_invitations, emptied first), its own redis-server and its own aiosmtpd sink
(tests/smtp_sink.py, a separate process) on free loopback ports, and measures in one run:

1. sending the same N messages: raw `smtplib` over one connection (reference); Vouch's sender in this
   process (claim, send, mark sent, lifecycle event per message); the same with DKIM signing; and a real
   `celery worker` from the tick task's enqueue until every message is marked sent;
2. importing a 10,000-row CSV (2% bad or duplicate rows) as the import task does it, beside a bare
   reference (csv.reader, address check, one bulk INSERT); peak memory with tracemalloc;
3. planning reminders with 100,000 open invitations: the minute tick when nothing is due, planning a
   batch of 1,000 due, and a naive scan that reads every open invitation to find the due ones.

Compare the ratios between lines of one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "vouch_bench_invitations"
KEY = ROOT / "tests" / "data" / "dkim-test-key.pem"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database() -> None:
    import psycopg

    # Its own database, made afresh each run: the migrations and the data are this run's alone.
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")


def start_worker(log: Path) -> subprocess.Popen:
    from config.celery import app

    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1", "--queues=text",
           "--pool=prefork", "--without-gossip", "--without-mingle", "--loglevel=WARNING",
           f"--hostname=bench-invitations-{os.getpid()}@localhost"]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=os.environ.copy(), stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited:\n{log.read_text()[-3000:]}")
        if app.control.ping(timeout=0.5):
            return proc
    raise RuntimeError(f"worker not ready:\n{log.read_text()[-3000:]}")


def new_campaign(name: str):
    from testimonials.invitations.models import Campaign
    from testimonials.models import Brand, CollectionForm

    brand, _ = Brand.objects.get_or_create(slug="bench", defaults={"name": "Bench Coffee"})
    form, _ = CollectionForm.objects.get_or_create(brand=brand, slug="feedback", defaults={"title": "How was it?"})
    return Campaign.objects.create(brand=brand, form=form, name=name, delay_days=0)


def add_customers(campaign, count: int, prefix: str) -> None:
    from django.db import transaction

    from testimonials.invitations.services import Customer, recipients_add

    customers = [
        Customer(email=f"{prefix}{n}@example.com", name=f"Customer {n}", product="Beans") for n in range(count)
    ]
    for start in range(0, count, 1000):
        with transaction.atomic():
            recipients_add(campaign=campaign, customers=customers[start : start + 1000], source="api")


def sink_count(folder: Path) -> int:
    return sum(1 for _ in folder.glob("*.eml"))


def bench_send(count: int, sink_folder: Path, sink_port: int) -> dict:
    from django.conf import settings
    from django.utils import timezone

    from testimonials import queue
    from testimonials.invitations import sending
    from testimonials.invitations.composing import compose
    from testimonials.invitations.models import Delivery
    from testimonials.invitations.sending import invitations_plan, invitations_send
    from testimonials.invitations.tasks import invitations_tick_task

    out: dict = {}

    def plan_all(prefix: str) -> list:
        campaign = new_campaign(f"send-{prefix}-{time.time_ns()}")
        add_customers(campaign, count, prefix)
        while invitations_plan(limit=5000):
            pass
        return list(Delivery.objects.filter(recipient__campaign=campaign, state="prepared"))

    def drain() -> None:
        while invitations_send(limit=10_000, deadline=3600).more:
            pass

    # 1. Reference: raw smtplib sending the very messages Vouch would send, over one connection.
    deliveries = plan_all("raw")
    loaded = Delivery.objects.select_related(
        "recipient", "recipient__campaign", "recipient__campaign__form", "recipient__brand"
    ).filter(id__in=[d.id for d in deliveries])
    messages = [(m.from_email, m.to, m.message().as_bytes(linesep="\r\n")) for m in (compose(d) for d in loaded)]
    Delivery.objects.filter(id__in=[d.id for d in deliveries]).update(state="skipped")
    before = sink_count(sink_folder)
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink_port) as client:
        for sender, to, raw in messages:
            client.sendmail(sender, to, raw)
    out["raw_smtplib_per_s"] = count / (time.perf_counter() - started)
    assert sink_count(sink_folder) - before == count

    # 2. Vouch's sender in this process, unsigned and DKIM-signed.
    for label, selector in (("service_per_s", ""), ("service_dkim_per_s", "bench")):
        settings.VOUCH_DKIM_SELECTOR = selector
        settings.VOUCH_DKIM_PRIVATE_KEY_FILE = str(KEY) if selector else ""
        plan_all(label)
        before = sink_count(sink_folder)
        started = time.perf_counter()
        drain()
        out[label] = count / (time.perf_counter() - started)
        assert sink_count(sink_folder) - before == count
    settings.VOUCH_DKIM_SELECTOR = ""

    # 3. A real worker: from the tick's enqueue until every message is marked sent.
    campaign = new_campaign(f"send-worker-{time.time_ns()}")
    add_customers(campaign, count, "worker")
    log = Path(tempfile.mkstemp(suffix=".log")[1])
    worker = start_worker(log)
    try:
        started = time.perf_counter()
        queue.send(invitations_tick_task)
        deadline = time.monotonic() + 600
        while Delivery.objects.filter(recipient__campaign=campaign, state="sent").count() < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"worker did not send everything:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        out["worker_per_s"] = count / (time.perf_counter() - started)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.unlink(missing_ok=True)
    out["sending_deadline_s"] = sending.SEND_DEADLINE_SECONDS
    out["checked_at"] = timezone.now().isoformat()
    return out


def make_csv(rows: int, seed: int) -> bytes:
    rng = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Customer name", "Email", "Order #", "Order date", "Product", "Locale"])
    for n in range(rows):
        email = f"customer{n}@example.com"
        roll = rng.random()
        if roll < 0.01:
            email = f"customer{n}.example.com"  # bad
        elif roll < 0.02:
            email = f"customer{max(n - 1, 0)}@example.com"  # duplicate of the row above
        product = rng.choice(["Espresso beans", "Pour-over kit", "Grinder"])
        date = f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}"
        writer.writerow([f"Customer {n}", email, str(100000 + n), date, product, rng.choice(["en", "de", "fr"])])
    return buffer.getvalue().encode()


def bench_import(rows: int, seed: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.validators import validate_email

    from testimonials.invitations.importing import import_job_confirm, import_job_run, import_job_start
    from testimonials.invitations.models import Recipient
    from testimonials.models import Membership

    data = make_csv(rows, seed)
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    out: dict = {"rows": rows, "file_bytes": len(data)}

    # Reference: the bare minimum (parse, check each address, one bulk INSERT), no report, no checks.
    campaign = new_campaign(f"import-ref-{time.time_ns()}")
    Membership.objects.get_or_create(user=user, brand=campaign.brand, defaults={"role": "owner"})
    started = time.perf_counter()
    reader = csv.reader(io.StringIO(data.decode()))
    next(reader)
    seen, bare = set(), []
    for name, email, *_ in reader:
        try:
            validate_email(email)
        except Exception:  # noqa: BLE001 - the reference skips what it cannot use
            continue
        if email not in seen:
            seen.add(email)
            bare.append(Recipient(campaign=campaign, brand=campaign.brand, name=name, email=email, email_key=email))
    Recipient.objects.bulk_create(bare, batch_size=1000)
    out["reference_s"] = time.perf_counter() - started

    def run(measure_memory: bool) -> tuple[float, int, object]:
        campaign = new_campaign(f"import-{time.time_ns()}")
        job = import_job_start(campaign=campaign, upload=SimpleUploadedFile("c.csv", data), actor=user)
        import_job_confirm(job=job, mapping=job.mapping, actor=user)
        if measure_memory:
            tracemalloc.start()
        started = time.perf_counter()
        job = import_job_run(job_id=job.id)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if measure_memory else 0
        if measure_memory:
            tracemalloc.stop()
        return elapsed, peak, job

    out["import_s"], _, job = run(False)
    _, out["import_peak_bytes"], _ = run(True)
    out["added"], out["duplicates"], out["invalid"] = job.added, job.duplicates, job.invalid
    # The same file twice: everything is a duplicate, nothing is added.
    started = time.perf_counter()
    again = import_job_start(campaign=job.campaign, upload=SimpleUploadedFile("c.csv", data), actor=user)
    import_job_confirm(job=again, mapping=again.mapping, actor=user)
    again = import_job_run(job_id=again.id)
    out["reimport_s"] = time.perf_counter() - started
    out["reimport_added"] = again.added
    return out


def bench_reminders(open_count: int, due: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from testimonials.invitations.models import OPEN_STATUSES, Recipient
    from testimonials.invitations.sending import invitations_plan
    from testimonials.invitations.upkeep import invitations_tick

    campaign = new_campaign(f"reminders-{time.time_ns()}")
    now = timezone.now()
    rng = random.Random(3)
    rows = []
    for n in range(open_count):
        # Open invitations waiting for their reminder within 12 days; `due` of them are due now.
        when = now - timedelta(minutes=1) if n < due else now + timedelta(minutes=rng.randint(5, 12 * 24 * 60))
        rows.append(Recipient(campaign=campaign, brand=campaign.brand, name=f"C{n}", email=f"r{n}@example.com",
                              email_key=f"r{n}@example.com", status="sent", messages_sent=1, first_sent_at=now,
                              next_send_at=when))  # fmt: skip
    started = time.perf_counter()
    Recipient.objects.bulk_create(rows, batch_size=5000)
    out: dict = {"open": open_count, "due": due, "insert_s": time.perf_counter() - started}
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE testimonials_recipient")

    # The naive way: read every open invitation and decide in Python which are due.
    started = time.perf_counter()
    every_open = Recipient.objects.filter(status__in=OPEN_STATUSES).values_list("next_send_at", flat=True)
    found = sum(1 for at in every_open.iterator(chunk_size=5000) if at and at <= now)
    out["naive_scan_s"] = time.perf_counter() - started
    assert found >= due

    started = time.perf_counter()
    planned = invitations_plan(now=now, limit=due)
    out["plan_due_s"] = time.perf_counter() - started
    out["planned"] = planned
    idle = []
    for _ in range(20):  # the minute tick when nothing is due: the common case
        started = time.perf_counter()
        invitations_tick(now=now)
        idle.append(time.perf_counter() - started)
    out["idle_tick_ms"] = sorted(idle)[len(idle) // 2] * 1000
    with connection.cursor() as cursor:
        sql, params = (
            Recipient.objects.filter(next_send_at__lte=now, status__in=OPEN_STATUSES, campaign__is_active=True)
            .order_by("next_send_at").values("id")[:1000].query.sql_with_params()
        )  # fmt: skip
        cursor.execute("EXPLAIN " + sql, params)
        out["plan"] = [row[0] for row in cursor.fetchall()]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--send", type=int, default=1000, help="messages per sending line")
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the CSV")
    parser.add_argument("--open", type=int, default=100_000, help="open invitations for the reminder planner")
    parser.add_argument("--due", type=int, default=1000, help="of which due now")
    parser.add_argument("--only", choices=["send", "import", "reminders"], action="append")
    args = parser.parse_args()
    only = set(args.only or ["send", "import", "reminders"])

    redis_port = free_port()
    redis_proc = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    folder = Path(tempfile.mkdtemp(prefix="vouch-bench-sink-"))
    from tests.smtp_sink import SmtpSink

    sink = SmtpSink.process(folder)
    os.environ.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "VOUCH_HTTPS": "false",
            "VOUCH_READ_DOT_ENV": "false",
            "VOUCH_VAR_DIR": tempfile.mkdtemp(prefix="vouch-bench-"),
            "VOUCH_PUBLIC_URL": "https://vouch.example.com",
            "EMAIL_URL": sink.url,
            "VOUCH_INVITE_SEND_RATE": "off",
            "VOUCH_INVITE_DAILY_CAP": "10000000",
            "VOUCH_INVITE_EVERY_SECONDS": "3600",
        }
    )
    ensure_database()
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE testimonials_brand CASCADE")

    results: dict = {"load_average_before": os.getloadavg(), "cores": os.cpu_count()}
    try:
        if "send" in only:
            results["send"] = bench_send(args.send, folder, sink.port)
        if "import" in only:
            results["import"] = bench_import(args.rows, seed=11)
        if "reminders" in only:
            results["reminders"] = bench_reminders(args.open, args.due)
    finally:
        sink.stop()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=2, sort_keys=True, default=str))
    print()
    print(f"machine: {os.cpu_count()} cores; load average before {results['load_average_before'][0]:.1f}, "
          f"after {results['load_average_after'][0]:.1f}; PostgreSQL, Redis and the SMTP sink on loopback")  # fmt: skip
    if "send" in results:
        s = results["send"]
        raw = s["raw_smtplib_per_s"]
        print(f"raw smtplib, one connection:          {raw:7.0f} messages/s (reference)")
        lines = [
            ("service_per_s", "Vouch's sender in process:"),
            ("service_dkim_per_s", "  the same, DKIM-signed:"),
            ("worker_per_s", "a real worker, tick to all sent:"),
        ]
        for key, label in lines:
            print(f"{label:<38}{s[key]:7.0f} messages/s ({s[key] / raw:.2f}x raw smtplib)")
    if "import" in results:
        i = results["import"]
        print(
            f"CSV import of {i['rows']} rows ({i['file_bytes'] / 1e6:.1f} MB): {i['import_s']:.2f} s, "
            f"peak {i['import_peak_bytes'] / 1e6:.1f} MB traced; bare reference {i['reference_s']:.2f} s "
            f"({i['import_s'] / i['reference_s']:.1f}x); re-upload {i['reimport_s']:.2f} s, added {i['reimport_added']}"
        )
    if "reminders" in results:
        r = results["reminders"]
        print(f"{r['open']} open invitations: plan {r['planned']} due in {r['plan_due_s'] * 1000:.0f} ms; idle tick "
              f"{r['idle_tick_ms']:.1f} ms; naive scan of every open one {r['naive_scan_s'] * 1000:.0f} ms "
              f"({r['naive_scan_s'] / r['plan_due_s']:.0f}x the planner)")  # fmt: skip


if __name__ == "__main__":
    main()
