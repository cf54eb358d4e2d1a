"""Analytics tests: a spool buffer of their own per test, fresh caches, one brand with a widget and cards."""

from __future__ import annotations

import json

import pytest

from testimonials.analytics import keys, selectors
from testimonials.analytics.buffer import get_buffer
from testimonials.analytics.services import ingest_records
from tests.factories import TestimonialFactory, WidgetFactory

HOST = "https://shop-a.example.com"
OWN = "http://testserver"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@pytest.fixture(autouse=True)
def _analytics_isolated(settings, tmp_path):
    settings.ANALYTICS_BUFFER_URL = f"spool://{tmp_path / 'spool'}"
    settings.PUBLIC_URL = OWN
    selectors.widget_facts_forget()
    keys.forget_current_salt()
    yield
    selectors.widget_facts_forget()
    keys.forget_current_salt()


@pytest.fixture
def widget_a(brand_a):
    return WidgetFactory(brand=brand_a)


@pytest.fixture
def cards(brand_a):
    return [TestimonialFactory(brand=brand_a) for _ in range(3)]


class Beacons:
    """Posts batches like frame.js (from the widget's own origin) and embed.js (from the host page)."""

    def __init__(self, client, widget) -> None:
        self.client, self.widget, self.n = client, widget, 0

    def eid(self) -> str:
        self.n += 1
        return f"evt{self.n:08d}"

    def post(self, body, *, origin=OWN, ua=UA, ip="203.0.113.7", path="events", **extra):
        raw = body if isinstance(body, bytes | str) else json.dumps(body)
        return self.client.post(
            f"/widgets/{self.widget.public_id}/{path}",
            data=raw,
            content_type="text/plain",
            HTTP_ORIGIN=origin,
            HTTP_USER_AGENT=ua,
            REMOTE_ADDR=ip,
            **extra,
        )

    def frame(self, events, **kwargs):
        return self.post({"o": HOST, "e": events}, **kwargs)

    def host(self, events, *, origin=HOST, **kwargs):
        return self.post({"e": events}, origin=origin, **kwargs)


@pytest.fixture
def beacons(client, widget_a):
    return Beacons(client, widget_a)


def drain() -> None:
    """What the worker does, in this process: every buffered beacon into events and rollups."""
    buffer = get_buffer()
    while entries := buffer.claim(consumer="test", count=100):
        ingest_records([e.data for e in entries])
        buffer.ack(entries)
