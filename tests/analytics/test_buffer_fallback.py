"""Behind a Redis buffer, a spool on the web host's disk takes the beacons Redis cannot: while Redis is down
(the soak run's Redis kill answered every beacon 503 for 10 s) a beacon is still accepted, stored once,
and drained with the stream. No Redis here: a closed port refuses at once."""

from __future__ import annotations

import socket

import pytest
import redis

from testimonials.analytics import buffer as buffer_module
from testimonials.analytics.buffer import BufferUnavailable, FallbackBuffer, get_buffer
from testimonials.analytics.models import Event
from testimonials.analytics.services import ingest_records


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


@pytest.fixture
def redis_down(settings, tmp_path):
    settings.ANALYTICS_BUFFER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.ANALYTICS_FALLBACK_DIR = str(tmp_path / "fallback")
    buffer_module._buffer.cache_clear()
    yield tmp_path / "fallback"
    buffer_module._buffer.cache_clear()


def test_it_accepts_beacons_while_redis_is_down_and_ingests_them_once(beacons, cards, redis_down):
    events = [[beacons.eid(), "imp"], [beacons.eid(), "view", cards[0].public_id]]

    assert beacons.frame(events).status_code == 204
    assert beacons.frame(events).status_code == 204  # the browser sent the same batch twice
    assert isinstance(get_buffer(), FallbackBuffer)
    assert len(list((redis_down / "queue").iterdir())) == 2
    entries = get_buffer().claim(consumer="w", count=10)  # the spooled ones, though Redis is still down
    ingest_records([e.data for e in entries])
    get_buffer().ack(entries)

    assert len(entries) == 2
    assert sorted(Event.objects.values_list("kind", flat=True)) == ["imp", "view"]
    assert get_buffer().fallback.pending() == 0


def test_it_skips_redis_for_a_while_after_it_failed(beacons, redis_down, monkeypatch):
    assert beacons.frame([[beacons.eid(), "imp"]]).status_code == 204
    tried = []
    primary = get_buffer().primary
    monkeypatch.setattr(primary, "append_many", lambda items: tried.append(items))

    assert beacons.frame([[beacons.eid(), "imp"]]).status_code == 204

    assert tried == []  # the breaker is open: straight to the spool
    assert get_buffer().fallback.pending() == 2


def test_it_refuses_with_503_when_neither_can_take_the_beacon(beacons, redis_down, monkeypatch):
    def disk_full(items):
        raise BufferUnavailable("No space left on device")

    monkeypatch.setattr(get_buffer().fallback, "append_many", disk_full)

    response = beacons.frame([[beacons.eid(), "imp"]])

    assert response.status_code == 503


def test_it_refuses_with_503_without_a_fallback_folder(beacons, redis_down, settings):
    settings.ANALYTICS_FALLBACK_DIR = ""

    response = beacons.frame([[beacons.eid(), "imp"]])

    assert response.status_code == 503


def test_it_tells_the_drain_about_the_outage_when_nothing_is_spooled(redis_down, db):
    with pytest.raises(redis.RedisError):
        get_buffer().claim(consumer="w", count=10)
    assert get_buffer().pending() == -1
