"""Processing pipeline: text testimonials decided per second, and submit-to-decision latency.

    .venv/bin/python bench/pipeline_throughput.py                 # 3000 texts, then 20/s for 30 s
    .venv/bin/python bench/pipeline_throughput.py --count 1000 --seconds 10

Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and the `redis-server` binary. It uses its
own database (vouch_bench_pipeline, emptied first) and its own redis-server on a free port, starts
one `celery -A config worker --concurrency=2` (two worker processes, as in production), and
measures, in one run:

1. reference: raw VADER (`polarity_scores` on each whole text, one process) on the same texts;
2. reference: Vouch's analysis alone (sentiment + flags + fingerprint + language, one process, no database);
3. throughput: N rows committed as received, N messages published, until every row is decided;
4. latency: `testimonial_submit` at a steady rate (commit, enqueue after commit), then
   decided_at - created_at for each row, p50/p95/max.

Compare the ratios between lines of one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "vouch_bench_pipeline"

OPENERS = [
    "I bought the {product} for my {who} in {month}.",
    "We have used the {product} at our {place} since {month}.",
    "My {who} recommended the {product} to me.",
    "I ordered the {product} after reading the reviews.",
    "",
]
PRODUCTS = [
    "standing desk",
    "kettle",
    "blender",
    "yoga class pass",
    "coffee grinder",
    "air fryer",
    "office chair",
    "noise cancelling headphones",
    "meditation app",
    "travel pillow",
    "running shoes",
    "desk lamp",
]
WHO = ["wife", "husband", "mother", "father", "sister", "brother", "team", "daughter", "son", "colleague"]
PLACES = ["office", "studio", "cafe", "clinic", "shop", "school"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_texts(count: int, seed: int) -> list[str]:
    """Realistic testimonials of 2-5 sentences built from the labelled sentences in tests/data/."""
    rng = random.Random(seed)
    pool = [
        line.split("\t")[2]
        for line in (ROOT / "tests/data/sentiment_labelled.tsv").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    texts = []
    for _ in range(count):
        opener = rng.choice(OPENERS).format(
            product=rng.choice(PRODUCTS), who=rng.choice(WHO), place=rng.choice(PLACES), month=rng.choice(MONTHS)
        )
        body = " ".join(rng.sample(pool, rng.randint(1, 4)))
        texts.append(f"{opener} {body}".strip())
    return texts


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def setup_environment(broker_url: str) -> dict:
    env = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "CELERY_BROKER_URL": broker_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "VOUCH_HTTPS": "false",
        "VOUCH_READ_DOT_ENV": "false",
        "VOUCH_VAR_DIR": tempfile.mkdtemp(prefix="vouch-bench-"),
        "SUBMIT_RATE_LIMIT": "off",
    }
    os.environ.update(env)
    return env


def ensure_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")


def start_worker(env: dict, concurrency: int) -> tuple[subprocess.Popen, Path]:
    log = Path(tempfile.mkstemp(suffix=".log")[1])
    cmd = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        f"--concurrency={concurrency}",
        "--queues=text",
        "--pool=prefork",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=WARNING",
        f"--hostname=bench-{os.getpid()}@localhost",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    # --loglevel=WARNING hides "ready": wait until the worker answers a ping instead.
    from config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited:\n{log.read_text()[-3000:]}")
        if app.control.ping(timeout=0.5):
            return proc, log
    raise RuntimeError(f"worker not ready:\n{log.read_text()[-3000:]}")


def wait_decided(ids: list[int], limit: float) -> None:
    from testimonials.models import Testimonial

    decided = [Testimonial.State.APPROVED, Testimonial.State.PENDING_REVIEW, Testimonial.State.REJECTED]
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        # The ids are contiguous (bulk_create, or one submitter): a range is a cheap poll.
        if Testimonial.objects.filter(id__gte=min(ids), id__lte=max(ids), state__in=decided).count() == len(ids):
            return
        time.sleep(0.2)
    raise RuntimeError(f"not every row was decided within {limit}s")


def wait_queue_empty(broker_url: str, limit: float) -> None:
    import redis

    client = redis.Redis.from_url(broker_url)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if client.llen("text") == 0 and client.hlen("unacked") == 0:
            return
        time.sleep(0.05)
    raise RuntimeError(f"messages still queued after {limit}s")


def reference_celery_ceiling(count: int, broker_url: str) -> float:
    """No-op tasks (Celery's built-in `celery.accumulate`) through the same broker and workers:
    what the queue itself allows on this machine right now, with no database and no analysis."""
    import redis

    from config.celery import app

    client = redis.Redis.from_url(broker_url)
    accumulate = app.tasks["celery.accumulate"]
    started = time.perf_counter()
    for n in range(count):
        accumulate.apply_async(args=(n,), queue="text")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if client.llen("text") == 0 and client.hlen("unacked") == 0:
            return count / (time.perf_counter() - started)
        time.sleep(0.02)
    raise RuntimeError("no-op tasks did not drain")


def reference_raw_vader(texts: list[str]) -> float:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    return len(texts) / (time.perf_counter() - started)


def reference_analysis(texts: list[str]) -> float:
    from testimonials.moderation import rules, sentiment, topics

    sentiment.analyse("warm up")
    vocabulary = topics.vocabulary([("widgets", "Widgets", ["widget", "carousel"])])
    started = time.perf_counter()
    for text in texts:
        reading = sentiment.read(text)
        mood = sentiment.judge(reading, 5)
        topics.as_stored(topics.find(reading, vocabulary), redact=False)  # as the pipeline: nothing to redact
        rules.check(text=text, rating=5, sentiment=mood, min_length=10, max_length=2000)
        rules.fingerprint(text)
        rules.detect_language(text)
        rules.redact(text)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000, help="texts for the throughput phase")
    parser.add_argument("--rate", type=float, default=20.0, help="submissions per second in the latency phase")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the latency phase")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default=DATABASE, help="PostgreSQL database to use (emptied first)")
    args = parser.parse_args()
    globals()["DATABASE"] = args.database

    port = free_port()
    redis_proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    env = setup_environment(f"redis://127.0.0.1:{port}/0")
    ensure_database()
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from testimonials import queue
    from testimonials.collection.submission import SubmissionData, testimonial_submit
    from testimonials.models import Brand, BrandTopic, CollectionForm, Testimonial
    from testimonials.processing.tasks import testimonial_process_task

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Testimonial._meta.db_table} CASCADE")
    brand, _ = Brand.objects.update_or_create(slug="bench", defaults={"name": "Bench", "auto_approve": True})
    # A topic of the brand's own, as most brands will have: the pipeline loads it with every batch.
    BrandTopic.objects.update_or_create(
        brand=brand, code="widgets", defaults={"name": "Widgets", "terms": ["widget", "carousel"]}
    )
    form, _ = CollectionForm.objects.get_or_create(brand=brand, slug="feedback", defaults={"title": "How did we do?"})

    texts = make_texts(args.count, args.seed)
    results: dict = {"count": args.count, "workers": args.workers, "rate": args.rate, "seconds": args.seconds}
    results["load_average_before"] = os.getloadavg()
    results["raw_vader_per_s"] = reference_raw_vader(texts)
    results["analysis_per_s"] = reference_analysis(texts)

    worker, log = start_worker(env, args.workers)
    try:
        results["celery_noop_per_s"] = reference_celery_ceiling(args.count, env["CELERY_BROKER_URL"])
        rows = Testimonial.objects.bulk_create(
            [Testimonial(brand=brand, form=form, author_name="Bench", rating=5, text=t) for t in texts]
        )
        ids = [row.id for row in rows]
        started = time.perf_counter()
        for testimonial_id in ids:
            queue.send(testimonial_process_task, testimonial_id)
        results["publish_s"] = time.perf_counter() - started
        wait_decided(ids, limit=600)
        elapsed = time.perf_counter() - started
        results["pipeline_per_s"] = args.count / elapsed
        # A task may decide other waiting rows with its own, so rows can all be decided before every
        # message was consumed: report when the queue was empty too (the rest find nothing to do).
        wait_queue_empty(env["CELERY_BROKER_URL"], limit=600)
        results["queue_empty_s"] = time.perf_counter() - started
        results["decided_s"] = elapsed
        states = Testimonial.objects.filter(id__in=ids).values_list("state", flat=True)
        results["states"] = {s: list(states).count(s) for s in set(states)}
        results["flagged_duplicate"] = Testimonial.objects.filter(
            id__in=ids, flags__contains=[{"code": "duplicate"}]
        ).count()

        # Latency at a steady rate, through the real submission service.
        submitted = []
        total = int(args.rate * args.seconds)
        rng = random.Random(args.seed + 1)
        fresh = make_texts(total, args.seed + 2)
        begin = time.perf_counter()
        for n in range(total):
            pause = begin + n / args.rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            data = SubmissionData(author_name="Steady", rating=rng.randint(1, 5), text=fresh[n], consent_given=True)
            submitted.append(testimonial_submit(form=form, data=data).id)
        results["achieved_rate"] = total / (time.perf_counter() - begin)
        wait_decided(submitted, limit=120)
        latencies = [
            (decided - created) / timedelta(seconds=1)
            for created, decided in Testimonial.objects.filter(id__in=submitted).values_list("created_at", "decided_at")
        ]
        results["latency_p50_s"] = statistics.median(latencies)
        results["latency_p95_s"] = percentile(latencies, 0.95)
        results["latency_max_s"] = max(latencies)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a loaded machine: the warm shutdown outlasted the wait
            os.killpg(worker.pid, 9)
            worker.wait(timeout=30)
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        log.unlink(missing_ok=True)

    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=2, sort_keys=True))
    print()
    print(f"machine: {os.cpu_count()} cores; {args.workers} worker processes; PostgreSQL + Redis on loopback")
    print(f"raw VADER, one process, whole texts:       {results['raw_vader_per_s']:8.0f} texts/s  (reference)")
    print(
        f"Vouch analysis, one process, no database:  {results['analysis_per_s']:8.0f} texts/s  "
        f"({results['analysis_per_s'] / results['raw_vader_per_s']:.2f}x raw VADER)"
    )
    print(
        f"pipeline end to end, {args.workers} workers:             {results['pipeline_per_s']:8.0f} testimonials/s  "
        f"({results['pipeline_per_s'] / results['raw_vader_per_s']:.2f}x raw VADER; target >= 300)"
    )
    print(
        f"no-op Celery tasks, {args.workers} workers:              {results['celery_noop_per_s']:8.0f} tasks/s  "
        f"(the queue's own ceiling)"
    )
    print(
        f"{args.count} rows decided after {results['decided_s']:.1f} s; every message consumed after "
        f"{results['queue_empty_s']:.1f} s ({args.count / results['queue_empty_s']:.0f} messages/s)"
    )
    print(
        f"latency at {results['achieved_rate']:.1f}/s: p50 {results['latency_p50_s'] * 1000:.0f} ms, "
        f"p95 {results['latency_p95_s'] * 1000:.0f} ms, max {results['latency_max_s'] * 1000:.0f} ms (target p95 < 2 s)"
    )


if __name__ == "__main__":
    main()
