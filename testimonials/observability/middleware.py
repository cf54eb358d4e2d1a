"""One middleware around every request: its id, its latency, and (only when asked) an access line.

The id comes from X-Request-ID when a trusted proxy sent it (TRUSTED_PROXY_COUNT > 0; nginx sets it
to $request_id, docs/deploy/nginx.conf) and looks like an id; otherwise a new one. It goes back in
the response's X-Request-ID and into every log record written while the request runs.
"""

from __future__ import annotations

import logging
import time
import uuid

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpResponse
from django.template import loader

from testimonials.observability import metrics
from testimonials.observability.logs import VALID_ID, request_id_var
from testimonials.outages import is_infrastructure_error, outage_kind

access_log = logging.getLogger("vouch.access")


def _request_id(request) -> str:
    if settings.TRUSTED_PROXY_COUNT > 0:
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        if offered and VALID_ID.fullmatch(offered):
            return offered
    return uuid.uuid4().hex


def _route(request) -> str:
    """A label of bounded cardinality: the URL pattern's name, never the path (ids would explode it)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or "unnamed"


class ObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = _request_id(request)
        request.request_id = request_id
        # Kept until the request is finished (request_finished, below), not reset here: Django logs
        # "Not Found" and "Internal Server Error" after the middleware has returned.
        request_id_var.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        response.headers["X-Request-ID"] = request_id
        route = _route(request)
        metrics.observe_request(request.method, route, response.status_code, elapsed)
        if settings.VOUCH_ACCESS_LOG:
            access_log.info(
                "%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed * 1000,
                extra={"route": route, "status": response.status_code, "duration_ms": round(elapsed * 1000, 1)},
            )  # fmt: skip
        return response


def _forget_request_id(**_kwargs) -> None:
    request_id_var.set("-")


request_finished.connect(_forget_request_id, dispatch_uid="vouch-forget-request-id")


class OutageMiddleware:
    """A page that fails because the database, the broker or a disk is down (not a bug) answers 503
    with the branded "back in a minute" page and Retry-After, instead of the 500 page meant for bugs.
    The customer's form has its own path (the spool, testimonials/spool/); this covers the rest: the
    workspace, the hosted pages. The outage is logged once per interval (outages.OutageLogFilter)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_infrastructure_error(exception):
            return None
        logging.getLogger("django.request").error(
            "%s %s answered 503: %s", request.method, request.path, exception, extra={"outage": outage_kind(exception)}
        )
        # Rendered without the request: context processors would ask the database who is signed in.
        html = loader.get_template("503.html").render({})
        return HttpResponse(html, status=503, headers={"Retry-After": "30"})
