"""/readyz: 200 when the database, the broker and the disks are fine; 503 naming what is not."""

from __future__ import annotations

import socket

import pytest
from django.db import OperationalError

from testimonials import queue
from testimonials.observability import readiness
from testimonials.spool import services as spool
from tests.collection.collect_support import _fresh_rate_limits, form_url, valid_post  # noqa: F401


@pytest.fixture
def embedded_broker(settings, tmp_path):
    folder = tmp_path / "broker" / "queue"
    folder.mkdir(parents=True)
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    return folder


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the socket is closed


def test_it_is_ready_when_the_database_broker_and_disks_are_fine(db, client, embedded_broker):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "disk": "ok"}}
    assert response["Cache-Control"].startswith("max-age=0")


def test_it_answers_503_naming_the_database_when_it_is_down(db, client, embedded_broker, monkeypatch):
    class DownConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(readiness, "connection", DownConnection())
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"].startswith("database unavailable: OperationalError: connection refused")
    assert body["checks"]["broker"] == "ok"
    assert body["reason"] == body["checks"]["database"]


def test_it_answers_503_when_redis_refuses_connections(db, client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("broker unavailable: ConnectionError")


def test_it_answers_503_when_the_embedded_broker_folder_is_gone(db, client, embedded_broker):
    embedded_broker.rmdir()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "missing or not writable" in response.json()["checks"]["broker"]


def test_it_answers_503_when_a_disk_is_nearly_full(db, client, embedded_broker, settings):
    settings.VOUCH_READY_MIN_FREE_MB = 10**12  # more than any disk has
    response = client.get("/readyz")
    assert response.status_code == 503
    reason = response.json()["checks"]["disk"]
    assert reason.startswith("low disk space: media (")
    assert "private (" in reason


def test_it_checks_the_spool_disk_and_counts_waiting_and_held_submissions(
    client, form_a, settings, tmp_path, monkeypatch
):
    settings.VOUCH_SPOOL_DIR = str(tmp_path / "spool")
    assert readiness.disk_folders()["spool"] == tmp_path / "spool"
    assert readiness.spool_depth() == (0, 0)  # not created yet: nothing waits
    down = OperationalError("connection to server at 127.0.0.1 failed: Connection refused")
    monkeypatch.setattr("testimonials.collection.views.testimonial_submit", _raises(down))
    assert client.post(form_url(form_a), valid_post(form_a)).status_code == 303
    assert readiness.spool_depth() == (1, 0)
    [entry] = spool._entries()
    spool._hold(entry, "refused on replay")
    assert readiness.spool_depth() == (0, 1)


def test_it_reads_this_process_s_circuit_breakers():
    assert readiness.broker_circuit_open() is False
    queue.broker_circuit.failed()
    try:
        assert readiness.broker_circuit_open() is True
    finally:
        queue.broker_circuit.succeeded()
    assert readiness.broker_circuit_open() is False
    assert readiness.cache_circuit_open() is False  # the tests' cache is not Redis: no breaker to open


def _raises(exc):
    def fail(*args, **kwargs):
        raise exc

    return fail


def test_it_measures_a_folder_not_created_yet_on_its_parents_disk(tmp_path):
    assert readiness.free_bytes(tmp_path / "not" / "yet") > 0


def test_it_refuses_other_methods(db, client):
    assert client.post("/readyz").status_code == 405
