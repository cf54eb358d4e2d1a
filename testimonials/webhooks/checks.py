"""`manage.py check --deploy`: loopback for outgoing HTTP is for tests and benchmarks, never production."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def outbound_loopback_check(app_configs, **kwargs):
    if settings.VOUCH_OUTBOUND_ALLOW_LOOPBACK:
        return [
            checks.Warning(
                "VOUCH_OUTBOUND_ALLOW_LOOPBACK is on: webhooks and imports may call 127.0.0.1 (the machine itself).",
                hint="Unset it: it exists for tests and benchmarks only.",
                id="vouch.W001",
            )
        ]
    return []
