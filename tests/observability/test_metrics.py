"""/metrics: Prometheus text for allowed addresses or the token only; latency, queue depth, task
outcomes, the oldest waiting item and the last sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery import signals
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from testimonials import queue
from testimonials.models import MediaAsset, Testimonial, TestimonialState
from testimonials.observability import readiness
from testimonials.tasks import sweep_stuck_task
from tests.factories import TestimonialFactory


@pytest.fixture
def embedded_broker(settings, tmp_path):
    folder = tmp_path / "broker" / "queue"
    folder.mkdir(parents=True)
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    return folder


def _samples(response) -> dict[tuple, float]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_it_refuses_addresses_not_allowed_even_to_a_logged_in_member(db, client, charlie, embedded_broker):
    client.force_login(charlie)
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 403
    assert b"vouch_" not in response.content


def test_it_answers_loopback_by_default_and_a_bearer_token_from_anywhere(db, client, settings, embedded_broker):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    settings.VOUCH_METRICS_TOKEN = "scrape-secret-0123456789"
    away = {"REMOTE_ADDR": "203.0.113.7"}
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-0123456789", **away).status_code == 200
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **away).status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic scrape-secret-0123456789", **away).status_code == 403


def test_it_judges_the_client_behind_a_trusted_proxy_by_the_forwarded_address(db, client, settings, embedded_broker):
    settings.TRUSTED_PROXY_COUNT = 1
    forwarded = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert forwarded.status_code == 403  # nginx on loopback passed on a request from the internet
    settings.TRUSTED_PROXY_COUNT = 0
    settings.VOUCH_METRICS_ALLOW = []  # nothing allowed, and no token: closed to everyone
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403


def test_it_counts_request_latency_by_route_name_not_path(db, client, form_a, embedded_broker):
    labels = {"method": "GET", "route": "collect-form", "status": "200"}
    before = REGISTRY.get_sample_value("vouch_http_request_duration_seconds_count", labels) or 0
    assert client.get(f"/c/{form_a.brand.slug}/{form_a.slug}/").status_code == 200
    assert REGISTRY.get_sample_value("vouch_http_request_duration_seconds_count", labels) == before + 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    before = REGISTRY.get_sample_value("vouch_http_request_duration_seconds_count", unmatched) or 0
    client.get("/no/such/page/12345/")
    assert REGISTRY.get_sample_value("vouch_http_request_duration_seconds_count", unmatched) == before + 1


def test_it_shows_the_depth_of_each_queue_of_the_embedded_broker(db, client, embedded_broker):
    for name in ("1_a.text.msg", "2_b.text.msg", "3_c.media.msg", "4_d.text.msg.part", "5_e.celeryev.msg"):
        (embedded_broker / name).write_bytes(b"{}")
    found = _samples(client.get("/metrics"))
    assert found[("vouch_queue_depth", (("queue", "text"),))] == 2
    assert found[("vouch_queue_depth", (("queue", "media"),))] == 1


def test_it_shows_how_long_the_oldest_waiting_item_has_waited(db, client, brand_a, embedded_broker):
    now = timezone.now()
    old = TestimonialFactory(brand=brand_a)
    Testimonial.objects.filter(id=old.id).update(
        state=TestimonialState.RECEIVED, state_changed_at=now - timedelta(minutes=10)
    )
    recent = TestimonialFactory(brand=brand_a)
    Testimonial.objects.filter(id=recent.id).update(state=TestimonialState.PROCESSING, state_changed_at=now)
    done = TestimonialFactory(brand=brand_a)
    Testimonial.objects.filter(id=done.id).update(
        state=TestimonialState.APPROVED, state_changed_at=now - timedelta(days=3)
    )
    MediaAsset.objects.create(
        testimonial=recent, kind=MediaAsset.Kind.PHOTO, status_changed_at=now - timedelta(minutes=2)
    )
    found = _samples(client.get("/metrics"))
    assert found[("vouch_waiting_items", (("kind", "testimonial"),))] == 2
    assert 600 <= found[("vouch_oldest_waiting_seconds", (("kind", "testimonial"),))] < 3600
    assert found[("vouch_waiting_items", (("kind", "media"),))] == 1
    assert 120 <= found[("vouch_oldest_waiting_seconds", (("kind", "media"),))] < 600


def test_it_counts_task_outcomes_and_remembers_the_last_sweep(db, client, embedded_broker):
    name = sweep_stuck_task.name
    before = REGISTRY.get_sample_value("vouch_celery_tasks_total", {"task": name, "outcome": "success"}) or 0
    assert ("vouch_sweeper_last_run_timestamp_seconds", ()) not in _samples(client.get("/metrics"))
    signals.task_success.send(sender=sweep_stuck_task, result={})
    signals.task_failure.send(sender=sweep_stuck_task, task_id="t1", exception=RuntimeError("boom"))
    after = REGISTRY.get_sample_value("vouch_celery_tasks_total", {"task": name, "outcome": "success"})
    assert after == before + 1
    assert REGISTRY.get_sample_value("vouch_celery_tasks_total", {"task": name, "outcome": "failure"}) >= 1
    found = _samples(client.get("/metrics"))
    assert abs(found[("vouch_sweeper_last_run_timestamp_seconds", ())] - timezone.now().timestamp()) < 60


def test_it_shows_the_spool_and_the_circuit_breakers(db, client, settings, tmp_path, monkeypatch):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    settings.VOUCH_SPOOL_DIR = str(tmp_path / "spool")
    monkeypatch.setattr(readiness, "spool_depth", lambda: (2, 1))
    queue.broker_circuit.failed()
    try:
        found = _samples(client.get("/metrics"))
    finally:
        queue.broker_circuit.succeeded()
    assert found[("vouch_spool_depth", (("state", "waiting"),))] == 2
    assert found[("vouch_spool_depth", (("state", "held"),))] == 1
    assert found[("vouch_circuit_open", (("service", "broker"),))] == 1
    assert found[("vouch_circuit_open", (("service", "cache"),))] == 0
    assert found[("vouch_disk_free_bytes", (("folder", "spool"),))] > 0


def test_it_still_answers_when_the_broker_is_unreadable(db, client, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": "/nonexistent/vouch/broker"}
    found = _samples(client.get("/metrics"))
    assert found[("vouch_scrape_errors", (("part", "queue_depth"),))] == 1
    assert ("vouch_waiting_items", (("kind", "testimonial"),)) in found


def test_it_adds_up_every_process_in_multiprocess_mode(db, client, embedded_broker, tmp_path, monkeypatch):
    import prometheus_client.values
    from prometheus_client import CollectorRegistry, Counter

    folder = tmp_path / "prom"
    folder.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    # What a gunicorn worker or a Celery process writes when it starts with the variable set.
    monkeypatch.setattr(
        prometheus_client.values, "ValueClass", prometheus_client.values.MultiProcessValue(lambda: 4242)
    )
    counter = Counter("vouch_test_multiprocess", "test", ["x"], registry=CollectorRegistry())
    counter.labels("y").inc(3)
    found = _samples(client.get("/metrics"))
    assert found[("vouch_test_multiprocess_total", (("x", "y"),))] == 3
    assert ("vouch_queue_depth", (("queue", "text"),)) in found


def test_it_answers_the_customer_even_when_a_metric_cannot_be_written(db, client, form_a, monkeypatch):
    from testimonials.observability import metrics

    class Broken:
        def labels(self, *args):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(metrics, "REQUEST_SECONDS", Broken())
    monkeypatch.setattr(metrics, "_observe_failed", False)
    assert client.get(f"/c/{form_a.brand.slug}/{form_a.slug}/").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert metrics._observe_failed is True
