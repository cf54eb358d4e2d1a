"""Imports: 10,000 reviews from a Trustpilot-style CSV, time and peak memory; then the same file again.

    .venv/bin/python bench/import_reviews.py                 # 10,000 rows
    .venv/bin/python bench/import_reviews.py --rows 2000

Needs PostgreSQL on 127.0.0.1:5432 (user postgres). It uses its own database (vouch_bench_imports,
emptied first) and runs the import job in this process, as a worker would (`import_job_run`), with the
broker in memory (the processing messages it sends go nowhere: this measures the import, not the
moderation that follows, which bench/pipeline_throughput.py measures). In one run:

1. reference: reading and checking every row of the file (`reader.read_reviews`), no database;
2. the import: upload check, count, chunks of 500 (testimonials, report rows, lifecycle entries,
   checkpoint), with Python's peak allocation (tracemalloc) and the process's peak RSS;
3. the same file again: every row a duplicate.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "vouch_bench_imports"
WORDS = (
    "great service fast delivery friendly staff would buy again the product works as described packaging was "
    "careful support answered quickly price is fair quality could be better arrived late but worth it"
).split()


def make_csv(rows: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Review ID", "Review Created (UTC)", "Consumer Name", "Review Title", "Review Content",
                     "Review Stars", "Review URL"])  # fmt: skip
    for n in range(rows):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 60))).capitalize() + "."
        writer.writerow([
            f"r{n:06d}", f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:00:00",
            f"Customer {n}", " ".join(rng.choice(WORDS) for _ in range(3)).title(), text, rng.randint(1, 5),
            f"https://www.trustpilot.com/reviews/r{n:06d}",
        ])  # fmt: skip
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    os.environ.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
            "CELERY_BROKER_URL": "memory://",
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "VOUCH_HTTPS": "false",
            "VOUCH_READ_DOT_ENV": "false",
            "VOUCH_VAR_DIR": tempfile.mkdtemp(prefix="vouch-bench-"),
            "VOUCH_IMPORT_MAX_BYTES": str(200 * 1024 * 1024),
        }
    )
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection

    from testimonials.imports import presets, reader, services
    from testimonials.imports.models import ReviewImport
    from testimonials.models import Brand, Membership, Testimonial

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Testimonial._meta.db_table}, {ReviewImport._meta.db_table} CASCADE")
    brand, _ = Brand.objects.update_or_create(slug="bench-imports", defaults={"name": "Bench imports"})
    owner, _ = get_user_model().objects.get_or_create(username="bench-importer")
    Membership.objects.get_or_create(user=owner, brand=brand, defaults={"role": Membership.Role.OWNER})

    data = make_csv(args.rows, args.seed)
    results: dict = {"rows": args.rows, "file_bytes": len(data), "load_average_before": os.getloadavg()}

    started = time.perf_counter()
    count = sum(
        1 for review in reader.read_reviews(io.BytesIO(data), presets.BY_CODE["trustpilot"]) if not review.problem
    )
    results["reference_read_s"] = time.perf_counter() - started
    results["reference_rows_ok"] = count

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for label in ("import", "again"):
        tracemalloc.start()
        started = time.perf_counter()
        job = services.import_job_create(
            brand=brand, actor=owner, preset="trustpilot", upload=SimpleUploadedFile("tp.csv", data)
        )
        services.import_job_run(job_id=job.id)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        job.refresh_from_db()
        results[f"{label}_s"] = elapsed
        results[f"{label}_rows_per_s"] = args.rows / elapsed
        results[f"{label}_python_peak_mb"] = peak / 1024 / 1024
        results[f"{label}_counts"] = [job.created_count, job.duplicate_count, job.error_count]
    results["import_vs_read_only"] = results["import_s"] / results["reference_read_s"]
    results["process_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["process_rss_before_mb"] = rss_before / 1024
    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=2, default=lambda v: round(v, 3) if isinstance(v, float) else str(v)))


if __name__ == "__main__":
    main()
