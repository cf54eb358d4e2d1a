"""/readyz for deploys and monitors, /metrics for Prometheus."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from testimonials.collection.abuse import client_ip
from testimonials.observability import metrics, readiness


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when the database and broker answer and every disk written to has room; else 503 with the reasons."""
    checks = readiness.readiness()
    failed = {name: reason for name, reason in checks.items() if reason}
    body = {
        "status": "ok" if not failed else "unavailable",
        "checks": {name: reason or "ok" for name, reason in checks.items()},
    }
    if failed:
        body["reason"] = "; ".join(failed.values())
    return JsonResponse(body, status=503 if failed else 200)


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.VOUCH_METRICS_TOKEN
    offered = request.META.get("HTTP_AUTHORIZATION", "")
    if token and offered.startswith("Bearer ") and hmac.compare_digest(offered[7:].strip(), token):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in network for network in settings.VOUCH_METRICS_ALLOW)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _may_scrape(request):
        return HttpResponse(
            "Metrics are open to the addresses in VOUCH_METRICS_ALLOW or with the VOUCH_METRICS_TOKEN bearer token.\n",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
