"""Analytics ingest against real PostgreSQL (the day-partitioned events table) and a real Redis stream:
kill -9 of the ingest worker in the middle of a drain, and a restart of the buffer itself, lose nothing
and count nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from testimonials.analytics import keys, selectors
from testimonials.analytics.buffer import buffer_for
from testimonials.analytics.models import Conversion, DailyRollup, Event, Exposure
from tests.factories import BrandFactory, TestimonialFactory, WidgetFactory
from tests.integration.support import RedisServer, RowLock
from tests.workers import ROOT, database_url, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HOST = "https://shop.example.com"
OWN = "http://testserver"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


class DurableRedis(RedisServer):
    """A Redis that writes every command to its append-only file before answering (the documented setup)."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", self.dir,
             "--appendonly", "yes", "--appendfsync", "always"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self._answers, limit=10)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def durable_redis(settings):
    server = DurableRedis()
    server.start()
    settings.ANALYTICS_BUFFER_URL = server.url
    settings.PUBLIC_URL = OWN
    selectors.widget_facts_forget()
    keys.forget_current_salt()
    yield server
    server.stop()
    selectors.widget_facts_forget()
    keys.forget_current_salt()


def ingest_worker(redis_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "ANALYTICS_BUFFER_URL": redis_url,
        "ANALYTICS_DRAIN_BATCH": "20",
        "ANALYTICS_CLAIM_IDLE_SECONDS": "1",
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "VOUCH_READ_DOT_ENV": "false",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "analytics_ingest", "--idle", "0.1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip


def post_traffic(widget, cards, visitors: int) -> Counter:
    """Each visitor: an impression, views of two cards, a video play, and every third one converts."""
    client, expected = Client(), Counter()
    for v in range(visitors):
        ip = f"198.51.{v // 250}.{v % 250 + 1}"
        a, b = cards[v % len(cards)].public_id, cards[(v + 1) % len(cards)].public_id
        events = [[f"v{v:06d}e1", "imp"], [f"v{v:06d}e2", "view", a], [f"v{v:06d}e3", "view", b],
                  [f"v{v:06d}e4", "play", b]]  # fmt: skip
        for body, origin in (({"o": HOST, "e": events}, OWN),):
            response = client.post(
                f"/widgets/{widget.public_id}/events", data=json.dumps(body), content_type="text/plain",
                HTTP_ORIGIN=origin, HTTP_USER_AGENT=UA, REMOTE_ADDR=ip,
            )  # fmt: skip
            assert response.status_code == 204
        expected["events"] += 4
        expected[("views", a)] += 1
        expected[("views", b)] += 1
        if v % 3 == 0:
            response = client.post(
                f"/widgets/{widget.public_id}/events",
                data=json.dumps({"e": [[f"v{v:06d}c1", "convert", "", 10, "EUR", f"order-{v}"]]}),
                content_type="text/plain", HTTP_ORIGIN=HOST, HTTP_USER_AGENT=UA, REMOTE_ADDR=ip,
            )  # fmt: skip
            assert response.status_code == 204
            expected["events"] += 1
            expected["conversions"] += 1
    return expected


def assert_counted_exactly(widget, cards, expected: Counter, visitors: int) -> None:
    assert Event.objects.count() == expected["events"]
    assert Conversion.objects.count() == expected["conversions"]
    whole = DailyRollup.objects.get(widget=widget, testimonial=None)
    assert whole.impressions == visitors
    assert whole.visitors == visitors
    assert whole.converters == expected["conversions"]
    assert whole.conversions_any == expected["conversions"]
    assert whole.value_any == Decimal(10 * expected["conversions"])
    for card in cards:
        row = DailyRollup.objects.get(widget=widget, testimonial=card)
        assert row.views == expected[("views", card.public_id)]
        assert row.visitors == expected[("views", card.public_id)]  # one view per visitor per card
    last = DailyRollup.objects.filter(widget=widget, testimonial__isnull=False)
    assert sum(r.conversions_last for r in last) == expected["conversions"]
    assert Exposure.objects.count() == visitors * 3


def test_it_loses_and_doubles_nothing_when_the_worker_is_killed_mid_drain(durable_redis):
    brand = BrandFactory(allowed_domains=[HOST])
    widget = WidgetFactory(brand=brand)
    cards = [TestimonialFactory(brand=brand) for _ in range(4)]
    visitors = 120
    expected = post_traffic(widget, cards, visitors)
    assert buffer_for(durable_redis.url).pending() == visitors + expected["conversions"]
    with connection.cursor() as cursor:  # the partitioned table is what the worker writes to
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'testimonials_event'")
        assert cursor.fetchone()[0] == "p"

    # Hold a rollup row locked: the worker's first batch blocks inside its transaction, mid-drain.
    today = time.strftime("%Y-%m-%d", time.gmtime())
    locked = DailyRollup.objects.create(brand=brand, widget=widget, testimonial=None, day=today)
    lock = RowLock(DailyRollup._meta.db_table, locked.id)
    worker = ingest_worker(durable_redis.url)
    try:
        wait_until(lambda: _waiting_on_lock(), limit=60)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        lock.release()
    assert Event.objects.count() == 0  # the killed transaction left nothing behind

    # The buffer itself dies (kill -9) and comes back from its append-only file.
    durable_redis.kill()
    durable_redis.start()
    assert buffer_for(durable_redis.url).pending() == visitors + expected["conversions"]

    # A new worker takes over the dead one's claimed entries; kill it too, at a random point, and again.
    for pause in (0.7, 1.3):
        worker = ingest_worker(durable_redis.url)
        time.sleep(pause)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    worker = ingest_worker(durable_redis.url)
    try:
        wait_until(lambda: buffer_for(durable_redis.url).pending() == 0, limit=120, every=0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert_counted_exactly(widget, cards, expected, visitors)

    # Replaying every batch through the endpoint again changes nothing.
    post_traffic(widget, cards, visitors)
    worker = ingest_worker(durable_redis.url)
    try:
        wait_until(lambda: buffer_for(durable_redis.url).pending() == 0, limit=120, every=0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert_counted_exactly(widget, cards, expected, visitors)


def _waiting_on_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def test_it_makes_day_partitions_and_drops_them_past_retention(db, settings):
    import datetime as dt

    from testimonials.analytics import partitions, services

    # Days of their own (the test runs in a transaction: these partitions are gone afterwards).
    now = dt.datetime(2030, 6, 15, 12, tzinfo=dt.UTC)
    partitions._made_for.clear()
    assert partitions.ensure_for(now) == 5  # yesterday, today and three days ahead
    made = partitions.existing()
    assert {dt.date(2030, 6, 14), dt.date(2030, 6, 15), dt.date(2030, 6, 18)} <= set(made)
    settings.ANALYTICS_RAW_RETENTION_DAYS = 2
    services.events_purge(now=now + dt.timedelta(days=4))
    assert dt.date(2030, 6, 16) not in partitions.existing()
    assert dt.date(2030, 6, 17) in partitions.existing()


def test_it_moves_rows_out_of_the_default_partition_when_their_day_gets_one(db):
    import datetime as dt

    from testimonials.analytics import partitions

    brand = BrandFactory()
    far = dt.date(2031, 1, 2)
    Event.objects.create(day=far, received_at=dt.datetime(2031, 1, 2, tzinfo=dt.UTC), event_id="far-future-1",
                         kind="imp", brand_id=brand.id)  # fmt: skip
    assert partitions.ensure(far)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM testimonials_event_default")
        assert cursor.fetchone()[0] == 0
        cursor.execute(f"SELECT count(*) FROM {partitions.partition_name(far)}")
        assert cursor.fetchone()[0] == 1
