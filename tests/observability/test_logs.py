"""Request ids in responses and log records, JSON lines, and a log that stays quiet per request."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.signals import request_finished
from django.http import HttpResponse
from django.test import RequestFactory

from testimonials.observability.logs import JsonFormatter, RequestIdFilter, request_id_var
from testimonials.observability.middleware import ObservabilityMiddleware


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def collected():
    handler = Collect()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler.records
    root.removeHandler(handler)
    root.setLevel(old_level)


def _view_that_logs(request):
    logging.getLogger("testimonials.somewhere").warning("deep in a service")
    return HttpResponse("ok")


def test_it_gives_every_response_a_fresh_request_id(db, client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert len(first["X-Request-ID"]) == 32 and int(first["X-Request-ID"], 16) >= 0
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_it_keeps_the_id_a_trusted_proxy_sent(db, client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client.get("/healthz", HTTP_X_REQUEST_ID="9f86d081884c7d65")["X-Request-ID"] == "9f86d081884c7d65"


def test_it_ignores_a_client_supplied_id_without_a_trusted_proxy(db, client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client.get("/healthz", HTTP_X_REQUEST_ID="chosen-by-the-client")["X-Request-ID"] != "chosen-by-the-client"


@pytest.mark.parametrize("offered", ["two words", "x" * 129, "line\nbreak", "<script>", ""])
def test_it_replaces_an_id_that_does_not_look_like_one(db, client, settings, offered):
    settings.TRUSTED_PROXY_COUNT = 1
    answered = client.get("/healthz", HTTP_X_REQUEST_ID=offered)["X-Request-ID"]
    assert answered != offered and len(answered) == 32


def test_it_puts_the_request_id_in_every_record_written_during_the_request(db, settings, collected):
    settings.VOUCH_ACCESS_LOG = False
    response = ObservabilityMiddleware(_view_that_logs)(RequestFactory().get("/x"))
    inside = [r for r in collected if r.getMessage() == "deep in a service"]
    assert [r.request_id for r in inside] == [response["X-Request-ID"]]
    request_finished.send(sender=None)
    logging.getLogger("testimonials.later").warning("after the request")
    assert collected[-1].request_id == "-"
    assert request_id_var.get() == "-"


def test_it_puts_the_request_id_in_djangos_own_not_found_and_error_lines(db, client, collected):
    response = client.get("/no/such/page/")
    (line,) = [r for r in collected if r.name == "django.request"]
    assert line.getMessage() == "Not Found: /no/such/page/"
    assert line.request_id == response["X-Request-ID"]
    assert request_id_var.get() == "-"  # the test client finished the request


def test_it_writes_no_line_per_request_unless_asked(settings, collected):
    settings.VOUCH_ACCESS_LOG = False
    ObservabilityMiddleware(lambda request: HttpResponse("ok"))(RequestFactory().get("/quiet"))
    assert [r for r in collected if r.name == "vouch.access"] == []
    settings.VOUCH_ACCESS_LOG = True
    response = ObservabilityMiddleware(lambda request: HttpResponse("ok", status=201))(RequestFactory().post("/loud"))
    (line,) = [r for r in collected if r.name == "vouch.access"]
    assert line.levelno == logging.INFO
    assert line.getMessage().startswith("POST /loud 201 ")
    assert line.request_id == response["X-Request-ID"] and line.status == 201


def test_it_formats_a_record_as_one_json_object_with_extras_and_traceback(settings, collected):
    ObservabilityMiddleware(_view_that_logs)(RequestFactory().get("/x"))
    record = next(r for r in collected if r.getMessage() == "deep in a service")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "WARNING" and entry["logger"] == "testimonials.somewhere"
    assert entry["message"] == "deep in a service"
    assert entry["request_id"] == record.request_id
    assert entry["time"].endswith("+00:00")
    try:
        raise ValueError('bad "quoted"\nvalue')
    except ValueError:
        logging.getLogger("x").exception("failed for %s", "ada", extra={"testimonial_id": 7})
    line = JsonFormatter().format(collected[-1])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "failed for ada" and entry["testimonial_id"] == 7
    assert entry["exc_info"].endswith('ValueError: bad "quoted"\nvalue')


def test_it_tags_a_celery_tasks_records_with_its_task_id(collected):
    from celery import signals

    signals.task_prerun.send(sender=None, task_id="abc123", task=None)
    logging.getLogger("testimonials.processing").warning("in a task")
    signals.task_postrun.send(sender=None, task_id="abc123", task=None)
    assert collected[-1].request_id == "task-abc123"
    assert request_id_var.get() == "-"


def test_it_lets_workers_log_like_the_web_and_stay_quiet_per_task(tmp_path):
    """A worker keeps LOGGING's handlers (JSON, request ids) and writes no line per task."""
    import subprocess
    import sys

    from django.conf import settings

    code = (
        "import os, logging; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; import django; django.setup(); "
        "from config.celery import app; app.log.setup(loglevel='INFO'); "
        "logging.getLogger('celery.app.trace').info('Task x succeeded'); "
        "logging.getLogger('testimonials.processing').warning('held for review')"
    )
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "true", "VOUCH_VAR_DIR": str(tmp_path), "LOG_FORMAT": "json",
           "VOUCH_READ_DOT_ENV": "false"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert [(e["logger"], e["message"]) for e in lines] == [("testimonials.processing", "held for review")]
