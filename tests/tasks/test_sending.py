"""Sending tasks: only a broker problem means "the sweeper will retry"; a bug is loud. After commit, one
callback per transaction carries every send, and a rolled-back transaction sends nothing."""

from __future__ import annotations

import logging

import kombu.exceptions
import pytest
import redis.exceptions
from django.db import transaction

from testimonials import queue
from testimonials.lifecycle.tasks import lifecycle_dispatch_task
from testimonials.processing.tasks import testimonial_process_task
from testimonials.widgets.tasks import widget_publish_task

pytestmark = pytest.mark.django_db


def _broken(error: BaseException):
    def apply(task, args, countdown):
        raise error

    return apply


@pytest.mark.parametrize(
    "error",
    [
        kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        redis.exceptions.ConnectionError("Connection refused"),
        redis.exceptions.TimeoutError("Timeout reading from socket"),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        OSError(28, "No space left on device"),
    ],
    ids=["kombu", "redis-refused", "redis-timeout", "socket-refused", "socket-timeout", "broker-disk-full"],
)
def test_it_reports_a_broker_problem_as_not_sent_and_leaves_the_rest_to_the_sweeper(monkeypatch, caplog, error):
    monkeypatch.setattr(queue, "_apply", _broken(error))
    with caplog.at_level(logging.WARNING, logger="testimonials.queue"):
        assert queue.send(testimonial_process_task, 42) is False
    [message] = [r for r in caplog.records if r.name == "testimonials.queue"]
    assert message.levelno == logging.WARNING and "the sweeper will retry" in message.getMessage()


def test_it_raises_a_bug_while_enqueueing_in_tests(monkeypatch):
    monkeypatch.setattr(queue, "_apply", _broken(TypeError("Object of type Testimonial is not JSON serializable")))
    with pytest.raises(TypeError, match="not JSON serializable"):
        queue.send(testimonial_process_task, 42)


def test_it_logs_a_bug_at_error_in_production_and_does_not_fail_the_request(monkeypatch, settings, caplog):
    settings.VOUCH_ENQUEUE_BUGS_RAISE = False
    monkeypatch.setattr(queue, "_apply", _broken(TypeError("Object of type Testimonial is not JSON serializable")))
    with caplog.at_level(logging.ERROR, logger="testimonials.queue"):
        assert queue.send(testimonial_process_task, 42) is False
    [message] = [r for r in caplog.records if r.name == "testimonials.queue"]
    assert message.levelno == logging.ERROR and "a bug, not the broker" in message.getMessage()


def test_it_sends_task_objects_with_their_arguments_and_countdown(monkeypatch):
    sent = []
    monkeypatch.setattr(queue, "_apply", lambda task, args, countdown: sent.append((task.name, args, countdown)))
    assert queue.send(widget_publish_task, 7, countdown=1.0) is True
    assert sent == [("testimonials.widgets.tasks.widget_publish_task", (7,), 1.0)]


def test_it_sends_after_commit_in_one_callback_and_gathers_lists(fake_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        queue.send_on_commit(testimonial_process_task, 1)
        queue.gather_on_commit(lifecycle_dispatch_task, [10, 11])
        queue.send_on_commit(widget_publish_task, 2, countdown=1.0)
        queue.gather_on_commit(lifecycle_dispatch_task, [12])
        assert fake_broker.sent == {}  # nothing before commit
    assert len(callbacks) == 1
    assert fake_broker.sent["testimonial_process_task"] == [1]
    assert fake_broker.sent["widget_publish_task"] == [2] and fake_broker.countdowns["widget_publish_task"] == [1.0]
    assert fake_broker.sent["lifecycle_dispatch_task"] == [[10, 11, 12]]


def test_a_rolled_back_transaction_sends_nothing(fake_broker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with transaction.atomic():
            queue.send_on_commit(testimonial_process_task, 1)
            transaction.set_rollback(True)
        queue.send_on_commit(testimonial_process_task, 2)
    assert fake_broker.sent["testimonial_process_task"] == [2]


@pytest.mark.parametrize("policy", [queue.PROCESSING_RETRY, queue.MEDIA_RETRY, queue.DISPATCH_RETRY])
def test_each_retry_policy_backs_off_with_jitter_up_to_its_cap(policy):
    delays = [[policy.delay(retries) for _ in range(200)] for retries in range(40)]
    assert all(0 <= d <= min(policy.cap, policy.base * 2**r) for r, row in enumerate(delays) for d in row)
    assert max(delays[-1]) > policy.cap / 2 and len({round(d, 6) for d in delays[-1]}) > 150  # capped, jittered
