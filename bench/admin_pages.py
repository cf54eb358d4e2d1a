"""Moderation queue, full list and dashboard render time with 100,000 testimonials on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vouch_bench_admin .venv/bin/python bench/admin_pages.py

Creates the database if needed, migrates, seeds once (bulk_create: 100,000 testimonials over 10
brands, 90,000 of them in the brand whose owner is measured, with flags, tags, photos and videos),
then renders each page through Django's test client, as the big brand's owner and as a superuser,
and prints the median and p90 of 25 runs after 3 warm-ups, the median CPU time of this process
(rendering; PostgreSQL's own time is not in it), the query count, and the ratio to the admin
index page measured in the same run (the reference). `--reseed` drops the rows first.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vouch_bench_admin")
# Production settings (DEBUG off, manifest static files) over plain HTTP for the in-process client.
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-admin-only-not-a-secret-0123456789abcdef0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("VOUCH_HTTPS", "false")
os.environ.setdefault("VOUCH_VAR_DIR", str(ROOT / "var" / "bench-admin"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TOTAL = 100_000
BIG_BRAND_SHARE = 90_000
BRANDS = 10
RUNS, WARMUP = 25, 3


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(*, reseed: bool) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from testimonials.models import Brand, CollectionForm, Membership, Tag, Testimonial

    if reseed:
        Testimonial.objects.all().delete()
        Brand.objects.filter(slug__startswith="bench-").delete()
    if Testimonial.objects.count() >= TOTAL:
        return
    started = time.perf_counter()
    rng = random.Random(7)
    user_model = get_user_model()
    owner, _ = user_model.objects.get_or_create(username="bench-owner", defaults={"is_staff": True})
    # The superuser sees every brand without a membership.
    user_model.objects.get_or_create(username="bench-root", defaults={"is_staff": True, "is_superuser": True})
    now = timezone.now()
    states = ["approved"] * 70 + ["pending_review"] * 15 + ["rejected"] * 10 + ["failed"] * 3 + ["processing"] * 2
    flag_pool = [
        {"code": "link", "reason": "Contains a link (x.example).", "action": "hold", "evidence": ["x.example"]},
        {"code": "email", "reason": "Contains an email address.", "action": "hold", "evidence": ["a@b.example"]},
        {"code": "profanity", "reason": "Contains the profane word d***.", "action": "hold", "evidence": ["darn"]},
    ]
    words = "great fast helpful team product support price easy setup love recommend slow late".split()
    with transaction.atomic():
        for b in range(BRANDS):
            brand = Brand.objects.create(name=f"Bench brand {b}", slug=f"bench-{b}")
            if b == 0:
                Membership.objects.create(user=owner, brand=brand, role="owner")
            forms = [CollectionForm(brand=brand, slug=f"form-{i}", title=f"Form {i}") for i in range(5)]
            CollectionForm.objects.bulk_create(forms)
            tags = Tag.objects.bulk_create([Tag(brand=brand, name=f"Tag {i}", slug=f"tag-{i}") for i in range(10)])
            share, extra = divmod(TOTAL - BIG_BRAND_SHARE, BRANDS - 1)
            count = BIG_BRAND_SHARE if b == 0 else share + (1 if b <= extra else 0)
            batch: list[Testimonial] = []
            for i in range(count):
                state = rng.choice(states)
                created = now - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
                waited = timedelta(minutes=rng.randint(5, 7 * 24 * 60))
                decided = created + waited if state in ("approved", "rejected") else None
                score = rng.uniform(-1, 1)
                batch.append(
                    Testimonial(
                        brand=brand,
                        form=rng.choice(forms),
                        author_name=f"Customer {b}-{i}",
                        author_email=f"c{b}-{i}@example.com",
                        rating=rng.choice([1, 2, 3, 4, 4, 5, 5, 5, None]),
                        text=" ".join(rng.choice(words) for _ in range(rng.randint(8, 60))),
                        consent_given=True,
                        consent_text="I agree.",
                        consented_at=created,
                        state=state,
                        created_at=created,
                        state_changed_at=decided or created,
                        decided_at=decided,
                        sentiment_score=score,
                        sentiment_label="positive" if score > 0.3 else "negative" if score < -0.3 else "neutral",
                        flags=[rng.choice(flag_pool)] if state == "pending_review" and rng.random() < 0.4 else [],
                    )
                )
                if len(batch) == 5000:
                    _flush(batch, tags, rng)
                    batch = []
            _flush(batch, tags, rng)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"seeded {Testimonial.objects.count()} testimonials in {time.perf_counter() - started:.1f} s")


def _flush(batch, tags, rng) -> None:
    from testimonials.models import MediaAsset, Testimonial

    if not batch:
        return
    rows = Testimonial.objects.bulk_create(batch)
    through = Testimonial.tags.through
    links = [through(testimonial_id=t.id, tag_id=rng.choice(tags).id) for t in rows if rng.random() < 0.2]
    through.objects.bulk_create(links)
    assets = []
    for t in rows:
        roll = rng.random()
        if roll < 0.10:
            assets.append(
                MediaAsset(
                    testimonial_id=t.id,
                    kind="photo",
                    status="ready",
                    derivatives={"card.webp": {"path": f"p/{t.public_id}/card.webp", "width": 640, "height": 480}},
                )
            )
        elif roll < 0.13:
            assets.append(
                MediaAsset(
                    testimonial_id=t.id,
                    kind="video",
                    status="ready",
                    duration_seconds=30,
                    derivatives={
                        "video.mp4": {"path": f"v/{t.public_id}/video.mp4"},
                        "poster.jpg": {"path": f"v/{t.public_id}/poster.jpg"},
                    },
                )
            )
    MediaAsset.objects.bulk_create(assets)


def measure(client, url: str) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    timings, cpu = [], []
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.9) - 1], statistics.median(cpu), len(queries)


def main() -> None:
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    seed(reseed="--reseed" in sys.argv)

    users = get_user_model().objects
    pages = [
        ("reference: admin index", "/admin/"),
        ("moderation queue (default list)", "/admin/testimonials/testimonial/"),
        ("full list, all states", "/admin/testimonials/testimonial/?state=all"),
        ("list filtered: flag=any, media=video", "/admin/testimonials/testimonial/?state=all&flag=any&media=video"),
        ("dashboard", "/admin/testimonials/testimonial/dashboard/"),
    ]
    from testimonials.models import Testimonial

    print(
        f"# {Testimonial.objects.count()} testimonials; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {RUNS} runs after {WARMUP} warm-ups"
    )
    print(f"{'persona':<11} {'page':<40} {'median ms':>9} {'p90 ms':>7} {'cpu ms':>7} {'queries':>7} {'x index':>7}")
    for persona in ("bench-owner", "bench-root"):
        client = Client()
        client.force_login(users.get(username=persona))
        reference = None
        for label, url in pages:
            median, p90, cpu, queries = measure(client, url)
            reference = reference or median
            ratio = median / reference
            print(f"{persona:<11} {label:<40} {median:>9.1f} {p90:>7.1f} {cpu:>7.1f} {queries:>7} {ratio:>7.1f}")


if __name__ == "__main__":
    main()
