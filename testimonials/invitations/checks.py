"""Deployment checks for invitations (`manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def unsubscribe_links_use_https(app_configs, **kwargs) -> list[Warning]:
    # RFC 8058 one-click unsubscribe, which Gmail and Yahoo require of bulk senders, needs an https URL.
    if settings.PUBLIC_URL.startswith("https://"):
        return []
    return [
        Warning(
            "VOUCH_PUBLIC_URL is not https: invitations would carry an http List-Unsubscribe link, which "
            "Gmail and Yahoo do not accept for one-click unsubscribe (RFC 8058).",
            hint="Set VOUCH_PUBLIC_URL=https://your-vouch-host.",
            id="vouch.W101",
        )
    ]
