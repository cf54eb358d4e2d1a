"""Moderation queue, full list and dashboard render time with 100,000 testimonials on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vouch_bench_admin .venv/bin/python bench/admin_pages.py

Creates the database if needed, migrates, seeds once (bulk_create: 100,000 testimonials over 10
brands, 90,000 of them in the brand whose owner is measured, with flags, tags, photos and videos),
then renders each page through Django's test client (production settings: DEBUG off), as the big
brand's owner and as a superuser. It prints medians and p90s over 4 rounds of 8 runs, the median
CPU time of this process (rendering; PostgreSQL's own time is not in it), the query count, the
ratio to the admin index page measured in the same run (the reference), and the same pages with
the admin's indexes dropped inside a rolled-back transaction, in alternating rounds so both
variants share the machine's load. `--reseed` drops the rows first.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import time
from contextlib import contextmanager
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
ROUNDS, RUNS, WARMUP = 4, 8, 2


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


def measure(client, url: str, runs: int) -> tuple[list[float], list[float], int]:
    """Wall and CPU milliseconds of `runs` requests after warm-ups, and the page's query count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        client.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return wall, cpu, len(queries)


# The indexes migration 0002 adds for these pages (see testimonials/models.py).
ADMIN_INDEXES = [
    "testimonial_brand_recent_idx",
    "testimonial_recent_idx",
    "testimonial_dashboard_idx",
    "testimonial_queue_brand_idx",
    "testimonial_queue_all_idx",
]


@contextmanager
def indexes(present: bool):
    """With the admin's indexes, or without them: dropped inside a transaction that is rolled back."""
    from django.db import connection, transaction

    if present:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX " + ", ".join(ADMIN_INDEXES))
        yield
        transaction.set_rollback(True)


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

    clients = {}
    for persona in ("bench-owner", "bench-root"):
        clients[persona] = Client()
        clients[persona].force_login(users.get(username=persona))
    # Rounds alternate "with" and "without the indexes" so both see the same machine load.
    wall: dict = {}
    cpu: dict = {}
    queries: dict = {}
    for round_ in range(ROUNDS):
        for present in (True, False) if round_ % 2 == 0 else (False, True):
            with indexes(present):
                for persona, client in clients.items():
                    for label, url in pages:
                        key = (persona, label, present)
                        w, c, q = measure(client, url, RUNS)
                        wall.setdefault(key, []).extend(w)
                        cpu.setdefault(key, []).extend(c)
                        queries[key] = q

    print(
        f"# {Testimonial.objects.count()} testimonials; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; {ROUNDS} rounds x {RUNS} runs "
        f"after {WARMUP} warm-ups; medians in ms"
    )
    header = f"{'persona':<11} {'page':<38} {'median':>7} {'p90':>6} {'cpu':>6} {'queries':>7} {'x index':>7}"
    print(header + f" {'no idx':>7} {'no idx p90':>10} {'slower':>6}")
    for persona in clients:
        reference = statistics.median(wall[(persona, pages[0][0], True)])
        for label, _ in pages:
            with_, without = sorted(wall[(persona, label, True)]), sorted(wall[(persona, label, False)])
            median, median_without = statistics.median(with_), statistics.median(without)
            print(
                f"{persona:<11} {label:<38} {median:>7.1f} {_p90(with_):>6.1f} "
                f"{statistics.median(cpu[(persona, label, True)]):>6.1f} {queries[(persona, label, True)]:>7} "
                f"{median / reference:>7.1f} {median_without:>7.1f} {_p90(without):>10.1f} "
                f"{median_without / median:>5.1f}x"
            )


def _p90(values: list[float]) -> float:
    return values[max(int(len(values) * 0.9) - 1, 0)]


if __name__ == "__main__":
    main()
