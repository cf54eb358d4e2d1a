"""The Influence page at 10 million raw events and 500 testimonials on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vouch_insight .venv/bin/python bench/influence_page.py

Creates the database if needed, migrates and seeds once with SQL (generate_series, no ORM in the
loop): one brand with 500 testimonials in 5 widgets, 10,000,000 raw events over 90 days in day
partitions, the daily rollups those events add up to (per widget and testimonial; visitors and
converters drawn per testimonial, since raw events carry no visitor key), and a 5% holdout on two
widgets. Then it renders, through Django's test client with production settings (DEBUG off) as the
brand's owner, in alternating rounds so every page shares the machine's load:
- the Influence page over the default 30 days, and over 90 days;
- the dashboard (the existing admin page, the reference) and /healthz (no database).
It prints p50/p95 over ROUNDS x RUNS of each, the query count, and the ratio to the dashboard.
`--reseed` drops the bench brand's rows first.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vouch_insight")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-influence-only-not-a-secret-0123456789abcdef0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("VOUCH_HTTPS", "false")
os.environ.setdefault("VOUCH_VAR_DIR", str(ROOT / "var" / "bench-influence"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

EVENTS = 10_000_000
TESTIMONIALS = 500
WIDGETS = 5
DAYS = 90
ROUNDS, RUNS, WARMUP = 5, 10, 2


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def seed(*, reseed: bool) -> None:
    """Each step runs once: a step already done (its rows present) is skipped, so a stopped seed resumes."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from testimonials.analytics import partitions
    from testimonials.analytics.models import BrandAnalytics, DailyRollup, Event, HoldoutDaily, WidgetHoldout
    from testimonials.models import Brand, CollectionForm, Membership, Testimonial, Widget

    if reseed:
        Brand.objects.filter(slug="bench-influence").delete()
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {Event._meta.db_table}")
    started = time.perf_counter()
    today = timezone.localdate()
    first = today - datetime.timedelta(days=DAYS - 1)
    user_model = get_user_model()
    owner, _ = user_model.objects.get_or_create(username="bench-owner", defaults={"is_staff": True})
    brand = Brand.objects.filter(slug="bench-influence").first()
    if brand is None:
        with transaction.atomic():
            brand = Brand.objects.create(name="Bench influence", slug="bench-influence")
            Membership.objects.create(user=owner, brand=brand, role="owner")
            BrandAnalytics.objects.create(brand=brand, currency="EUR")
            form = CollectionForm.objects.create(brand=brand, slug="feedback", title="Feedback")
            now = timezone.now()
            Testimonial.objects.bulk_create(
                [
                    Testimonial(
                        brand=brand, form=form, author_name=f"Customer {i}", rating=[5, 4, 5, 3, 1][i % 5],
                        text=f"Testimonial {i}: the onboarding was quick and support answered within the hour.",
                        consent_given=True, consent_text="I agree.", consented_at=now, state="approved",
                    )
                    for i in range(TESTIMONIALS)
                ]
            )  # fmt: skip
            widgets = Widget.objects.bulk_create([Widget(brand=brand, name=f"Widget {w}") for w in range(WIDGETS)])
            for widget in widgets[:2]:
                WidgetHoldout.objects.create(widget=widget, percent=5)
    t_ids = list(Testimonial.objects.filter(brand=brand).order_by("id").values_list("id", flat=True))
    w_ids = list(Widget.objects.filter(brand=brand).order_by("id").values_list("id", flat=True))
    events, rollups = Event._meta.db_table, DailyRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")  # a bench seed: nothing to lose
        cursor.execute(f"SELECT count(*) FROM {events} WHERE brand_id = %s", [brand.id])
        if cursor.fetchone()[0] < EVENTS:
            cursor.execute(f"TRUNCATE {events}")
            for day_index in range(DAYS + 1):
                partitions.ensure(first + datetime.timedelta(days=day_index))
            # The same number of events each day; testimonial n is placed in widget n % 5; a tenth of the
            # events are impressions (no testimonial), the rest views, plays, quartiles and clicks.
            kinds = "ARRAY['view','view','view','view','play','q25','q50','q75','done','c_more','c_author','c_share']"
            cursor.execute(
                f"""
                INSERT INTO {events}
                    (day, received_at, event_id, kind, brand_id, widget_id, testimonial_id, value, currency, order_id)
                SELECT %(first)s::date + ((g - 1) * {DAYS}::bigint / %(n)s)::int,
                       (%(first)s::date + ((g - 1) * {DAYS}::bigint / %(n)s)::int)::timestamptz
                           + make_interval(secs => (g %% 86400)),
                       'b' || g, CASE WHEN g %% 10 = 0 THEN 'imp' ELSE ({kinds})[1 + (g / 7) %% 12] END,
                       %(brand)s, (%(widgets)s::bigint[])[1 + ((g / 3) %% {TESTIMONIALS}) %% {WIDGETS}],
                       CASE WHEN g %% 10 = 0 THEN NULL ELSE (%(items)s::bigint[])[1 + (g / 3) %% {TESTIMONIALS}] END,
                       NULL, '', ''
                FROM generate_series(1, %(n)s) AS g
                """,
                {"first": first, "brand": brand.id, "widgets": w_ids, "items": t_ids, "n": EVENTS},
            )
            DailyRollup.objects.filter(brand=brand).delete()
            print(f"  raw events: {time.perf_counter() - started:.0f} s", flush=True)
        if not HoldoutDaily.objects.filter(brand=brand).exists():
            DailyRollup.objects.filter(brand=brand).delete()
            # The rollups those events add up to, per (widget, testimonial, day); visitors are about 80% of
            # views, and each testimonial converts its viewers at its own rate (1-9%), the widget 4%.
            cursor.execute(
                f"""
                INSERT INTO {rollups}
                    (brand_id, widget_id, testimonial_id, day, impressions, views, plays, q25, q50, q75,
                     completions, clicks_author, clicks_more, clicks_share, clicks_wall, visitors, converters,
                     conversions_any, value_any, conversions_last, value_last)
                SELECT brand_id, widget_id, testimonial_id, day,
                       count(*) FILTER (WHERE kind = 'imp'), count(*) FILTER (WHERE kind = 'view'),
                       count(*) FILTER (WHERE kind = 'play'), count(*) FILTER (WHERE kind = 'q25'),
                       count(*) FILTER (WHERE kind = 'q50'), count(*) FILTER (WHERE kind = 'q75'),
                       count(*) FILTER (WHERE kind = 'done'), count(*) FILTER (WHERE kind = 'c_author'),
                       count(*) FILTER (WHERE kind = 'c_more'), count(*) FILTER (WHERE kind = 'c_share'), 0,
                       0, 0, 0, 0, 0, 0
                FROM {events} WHERE brand_id = %s GROUP BY brand_id, widget_id, testimonial_id, day
                """,
                [brand.id],
            )
            rate = "views * 8 / 10 * (1 + testimonial_id % 9)"
            cursor.execute(
                f"UPDATE {rollups} SET visitors = views * 8 / 10, converters = {rate} / 100, "
                f"conversions_any = {rate} / 100, value_any = {rate} / 100 * 49, "
                f"conversions_last = {rate} / 300, value_last = {rate} / 300 * 49 "
                f"WHERE testimonial_id IS NOT NULL AND brand_id = {brand.id}"
            )
            seen = "impressions * 9 / 10"
            cursor.execute(
                f"UPDATE {rollups} SET visitors = {seen}, converters = {seen} * 4 / 100, "
                f"conversions_any = {seen} * 4 / 100, value_any = {seen} * 4 / 100 * 49, "
                f"conversions_last = {seen} * 4 / 100, value_last = {seen} * 4 / 100 * 49, "
                f"clicks_wall = impressions / 200 WHERE testimonial_id IS NULL AND brand_id = {brand.id}"
            )
            cursor.execute(
                f"""
                INSERT INTO {HoldoutDaily._meta.db_table}
                    (brand_id, widget_id, day, percent, shown_visitors, held_visitors, shown_converters,
                     held_converters, shown_value, held_value)
                SELECT brand_id, widget_id, day, 5, visitors * 95 / 100, visitors * 5 / 100, converters * 95 / 100,
                       converters * 5 / 100 * 8 / 10, 0, 0
                FROM {rollups} WHERE testimonial_id IS NULL AND widget_id = ANY(%s)
                """,
                [w_ids[:2]],
            )
            cursor.execute("ANALYZE")
    count = DailyRollup.objects.filter(brand=brand).count()
    print(f"seeded {EVENTS:,} events and {count:,} rollup rows in {time.perf_counter() - started:.0f} s")


def sizes() -> None:
    """On-disk size (table and indexes) of what the seed wrote: the sizing note's figures."""
    from django.db import connection

    from testimonials.analytics.models import DailyRollup, Event, HoldoutDaily

    with connection.cursor() as cursor:
        for model in (Event, DailyRollup, HoldoutDaily):
            table = model._meta.db_table
            # A partitioned table's size is its partitions'; pg_partition_tree has no rows for a plain one.
            cursor.execute(
                "SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree(%s)), "
                "pg_total_relation_size(%s))",
                [table, table],
            )
            size = int(cursor.fetchone()[0])
            cursor.execute(f"SELECT count(*) FROM {table}")
            rows = cursor.fetchone()[0]
            print(f"{table}: {rows:,} rows, {size / 1e6:,.0f} MB ({size / max(rows, 1):.0f} bytes a row with indexes)")


def measure() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    owner = get_user_model().objects.get(username="bench-owner")
    client = Client()
    client.force_login(owner)
    today = timezone.localdate()
    ninety = f"?start={today - datetime.timedelta(days=DAYS - 1)}&end={today}"
    pages = {
        "influence, 30 days": "/admin/testimonials/testimonial/influence/",
        "influence, 90 days": "/admin/testimonials/testimonial/influence/" + ninety,
        "influence CSV, 90 days": "/admin/testimonials/testimonial/influence/export.csv" + ninety,
        "dashboard (reference)": "/admin/testimonials/testimonial/dashboard/",
        "/healthz": "/healthz",
    }
    timings: dict[str, list[float]] = {name: [] for name in pages}
    queries: dict[str, int] = {}
    for name, url in pages.items():
        for _ in range(WARMUP):
            assert client.get(url).status_code == 200, url
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries[name] = len(captured.captured_queries)
    reset_queries()
    for _ in range(ROUNDS):
        for name, url in pages.items():
            for _ in range(RUNS):
                started = time.perf_counter()
                response = client.get(url)
                timings[name].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
    reference = statistics.median(timings["dashboard (reference)"])
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}; {platform.processor() or platform.machine()}")
    print(f"{'page':<26}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}{'p50 vs dashboard':>18}")
    for name, values in timings.items():
        values.sort()
        p50 = statistics.median(values)
        p95 = values[int(len(values) * 0.95) - 1]
        print(f"{name:<26}{p50:>9.1f}{p95:>9.1f}{queries[name]:>9}{p50 / reference:>17.2f}x")


def main() -> None:
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off: the manifest storage
    print(f"load average at start: {os.getloadavg()[0]:.1f}")
    seed(reseed="--reseed" in sys.argv)
    sizes()
    measure()


if __name__ == "__main__":
    main()
