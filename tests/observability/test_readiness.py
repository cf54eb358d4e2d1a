"""/readyz: 200 when the database, the broker and the disks are fine; 503 naming what is not."""

from __future__ import annotations

import socket

import pytest
from django.db import OperationalError

from testimonials import queue
from testimonials.observability import readiness


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


def test_it_checks_the_spool_disk_and_counts_its_files_when_a_spool_is_configured(settings, tmp_path):
    spool = tmp_path / "spool"
    settings.VOUCH_SPOOL_DIR = str(spool)
    assert readiness.disk_folders()["spool"] == spool
    assert readiness.spool_depth() == 0  # not created yet: nothing waits
    spool.mkdir()
    (spool / "a.json").write_text("{}")
    (spool / "b.json").write_text("{}")
    (spool / "c.json.tmp").write_text("{")  # a write in progress is not a submission yet
    assert readiness.spool_depth() == 2


def test_it_reports_no_spool_or_circuit_where_the_installation_has_none(settings, monkeypatch):
    settings.VOUCH_SPOOL_DIR = None
    monkeypatch.delattr(queue, "circuit_open", raising=False)
    assert readiness.spool_depth() is None
    assert "spool" not in readiness.disk_folders()
    assert readiness.broker_circuit_open() is None
    monkeypatch.setattr(queue, "circuit_open", lambda: True, raising=False)
    assert readiness.broker_circuit_open() is True


def test_it_measures_a_folder_not_created_yet_on_its_parents_disk(tmp_path):
    assert readiness.free_bytes(tmp_path / "not" / "yet") > 0


def test_it_refuses_other_methods(db, client):
    assert client.post("/readyz").status_code == 405
