"""Outages: the broker circuit breaker, telling infrastructure errors from an item's own, one log line per outage."""

from __future__ import annotations

import errno
import logging

import django.db
import kombu.exceptions
import pytest
import redis.exceptions

from testimonials import outages, queue
from testimonials.processing.tasks import testimonial_process_task


class DeadBroker:
    def __init__(self, exc: BaseException):
        self.exc = exc
        self.calls = 0

    def __call__(self, task, args, countdown):
        self.calls += 1
        raise self.exc


def test_it_stops_calling_a_dead_broker_for_a_cooldown_after_the_first_failure(monkeypatch):
    dead = DeadBroker(kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379"))
    monkeypatch.setattr("testimonials.queue._apply", dead)
    assert [queue.send(testimonial_process_task, n) for n in range(50)] == [False] * 50
    assert dead.calls == 1
    state = queue.broker_circuit_state()
    assert state["state"] == "open" and state["failures"] == 1 and state["skipped"] == 49


def test_it_tries_the_broker_again_once_the_cooldown_is_over_and_closes_on_success(monkeypatch):
    dead = DeadBroker(redis.exceptions.ConnectionError("refused"))
    monkeypatch.setattr("testimonials.queue._apply", dead)
    monkeypatch.setattr(queue.broker_circuit, "cooldown", 0.0)
    assert queue.send(testimonial_process_task, 1) is False
    assert queue.send(testimonial_process_task, 2) is False
    assert dead.calls == 2  # half-open: one trial each time the (zero) cooldown is over
    sent = []
    monkeypatch.setattr("testimonials.queue._apply", lambda task, args, countdown: sent.append(args))
    assert queue.send(testimonial_process_task, 3) is True
    assert sent == [(3,)]
    assert queue.broker_circuit_state()["state"] == "closed"


def test_it_treats_a_full_filesystem_broker_as_a_broker_error_not_a_bug(monkeypatch):
    # config/broker.py raises ChannelError when the embedded broker's disk is full.
    monkeypatch.setattr("testimonials.queue._apply", DeadBroker(kombu.exceptions.ChannelError("Cannot add file")))
    assert queue.send(testimonial_process_task, 1) is False


def test_it_still_raises_a_bug_while_enqueueing_in_tests(monkeypatch):
    monkeypatch.setattr("testimonials.queue._apply", DeadBroker(TypeError("not JSON serialisable")))
    with pytest.raises(TypeError):
        queue.send(testimonial_process_task, 1)
    assert queue.broker_circuit_state()["state"] == "closed"  # a bug is not an outage


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (django.db.OperationalError("the connection is closed"), "database"),
        (django.db.InterfaceError("connection already closed"), "database"),
        (kombu.exceptions.OperationalError("Error 111"), "broker"),
        (kombu.exceptions.ChannelError("Cannot add file"), "broker"),
        (redis.exceptions.TimeoutError("Timeout reading from socket"), "redis"),
        (OSError(errno.ENOSPC, "No space left on device"), "disk"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "network"),
        (ValueError("bad image"), None),
        (django.db.IntegrityError("duplicate key"), None),
        (FileNotFoundError(errno.ENOENT, "No such file"), None),
        (KeyError("x"), None),
    ],
)
def test_it_tells_an_outage_from_an_items_own_failure(exc, kind):
    assert outages.outage_kind(exc) == kind


def test_it_finds_an_outage_behind_the_error_it_caused():
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as disk:
            raise RuntimeError("could not save the rendition") from disk
    except RuntimeError as exc:
        assert outages.outage_kind(exc) == "disk"


def record(name: str, exc: BaseException | None, msg: str = "Processing testimonial 7 failed") -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, None, (type(exc), exc, None) if exc else None)


def test_it_logs_an_outage_once_per_interval_with_a_count_and_no_traceback(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(outages.time, "monotonic", lambda: now[0])
    keep = outages.OutageLogFilter(interval=60)
    down = django.db.OperationalError("connection to server at 127.0.0.1 failed")
    passed = [r for r in (record("testimonials.processing", down) for _ in range(93)) if keep.filter(r)]
    assert len(passed) == 1
    assert passed[0].exc_info is None
    assert "database outage" in passed[0].getMessage()
    now[0] += 61
    later = record("testimonials.processing", down)
    assert keep.filter(later)
    assert "92 similar messages held back" in later.getMessage()


def test_it_lets_every_other_error_through_with_its_traceback():
    keep = outages.OutageLogFilter(interval=60)
    bug = ValueError("a bug")
    records = [record("testimonials.processing", bug) for _ in range(3)]
    assert all(keep.filter(r) for r in records)
    assert all(r.exc_info is not None for r in records)


def test_it_counts_outages_separately_per_logger_and_kind():
    keep = outages.OutageLogFilter(interval=60)
    assert keep.filter(record("a", django.db.OperationalError("down")))
    assert keep.filter(record("b", django.db.OperationalError("down")))
    assert keep.filter(record("a", OSError(errno.ENOSPC, "full")))
    tagged = logging.LogRecord("q", logging.WARNING, __file__, 1, "Did not enqueue", None, None)
    tagged.outage = "broker"
    assert keep.filter(tagged)
    again = logging.LogRecord("q", logging.WARNING, __file__, 1, "Did not enqueue", None, None)
    again.outage = "broker"
    assert not keep.filter(again)


def test_it_puts_the_outage_filter_on_the_console_log(settings):
    handler = settings.LOGGING["handlers"]["console"]
    assert "outages" in handler["filters"]
    assert settings.LOGGING["filters"]["outages"]["()"] == "testimonials.outages.OutageLogFilter"


def test_it_logs_a_broker_outage_during_enqueues_as_one_line(monkeypatch):
    emitted: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record):
            emitted.append(record)

    handler = Collect()
    handler.addFilter(outages.OutageLogFilter(interval=60))
    logger = logging.getLogger("testimonials.queue")
    logger.addHandler(handler)
    monkeypatch.setattr("testimonials.queue._apply", DeadBroker(kombu.exceptions.OperationalError("Error 111")))
    try:
        for n in range(93):
            queue.send(testimonial_process_task, n)
    finally:
        logger.removeHandler(handler)
    assert len(emitted) == 1
    assert emitted[0].exc_info is None
    assert "[broker outage]" in emitted[0].getMessage()
