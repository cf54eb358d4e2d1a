"""`manage.py analytics_ingest`, production's ingest worker: it outlives an outage of its buffer's Redis or
of the database (the soak run saw it exit on each, and on a deadlock, restarted by its supervisor)."""

from __future__ import annotations

import io

import pytest
import redis
from django.core.management import call_command
from django.db import OperationalError

from testimonials.analytics import services
from testimonials.analytics.services import IngestResult
from testimonials.management.commands import analytics_ingest


def _drains(monkeypatch, outcomes: list):
    calls = []

    def drain(**kwargs):
        calls.append(kwargs)
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    pauses = []
    monkeypatch.setattr(services, "analytics_drain", drain)
    monkeypatch.setattr(analytics_ingest.time, "sleep", pauses.append)
    # No database here: the connections the worker would check or replace are recorded instead.
    monkeypatch.setattr(analytics_ingest, "close_old_connections", lambda: None)
    monkeypatch.setattr(analytics_ingest, "connections", Connections())
    return calls, pauses


class Connections:
    replaced = 0

    def close_all(self) -> None:
        self.replaced += 1


def test_it_keeps_draining_after_redis_and_database_outages(monkeypatch):
    calls, pauses = _drains(
        monkeypatch,
        [
            redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
            OperationalError("deadlock detected"),
            IngestResult(beacons=3, added=7),
            IngestResult(),
        ],
    )
    out = io.StringIO()

    call_command("analytics_ingest", "--once", "--idle", "0.5", "--verbosity", "2", stdout=out)

    assert len(calls) == 4
    assert "ingested 7 events from 3 beacons" in out.getvalue()
    # A longer pause after each failure in a row, with fresh connections each time.
    assert pauses == [1.0, 2.0]
    assert analytics_ingest.connections.replaced == 2


def test_it_caps_the_pause_during_a_long_outage(monkeypatch):
    down = [redis.exceptions.ConnectionError("refused") for _ in range(8)]
    _calls, pauses = _drains(monkeypatch, [*down, IngestResult()])

    call_command("analytics_ingest", "--once", "--idle", "0.5", stdout=io.StringIO())

    assert pauses[-1] == analytics_ingest.MAX_PAUSE
    assert max(pauses) == analytics_ingest.MAX_PAUSE


def test_it_stops_on_an_error_that_is_not_an_outage(monkeypatch):
    _drains(monkeypatch, [ValueError("a bug")])

    with pytest.raises(ValueError, match="a bug"):
        call_command("analytics_ingest", "--once", stdout=io.StringIO())


def test_it_stays_quiet_in_normal_operation(monkeypatch):
    _drains(monkeypatch, [IngestResult(beacons=3, added=7), IngestResult()])
    out = io.StringIO()

    call_command("analytics_ingest", "--once", stdout=out)

    assert out.getvalue() == ""
