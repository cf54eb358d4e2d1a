"""Invitations' settings: EMAIL_URL picks the backend, a malformed one stops start-up, DKIM needs its key,
and the deployment check warns when unsubscribe links would not be https."""

from __future__ import annotations

import subprocess
import sys

from testimonials.invitations.checks import unsubscribe_links_use_https
from tests.test_settings import BASE_ENV, ROOT


def _settings(env: dict, expression: str) -> subprocess.CompletedProcess:
    code = f"import config.settings as s; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**BASE_ENV, "DEBUG": "true", **env}, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip


def test_the_embedded_default_writes_to_the_outbox_folder_and_smtp_comes_from_email_url():
    assert _settings({}, "s.EMAIL_BACKEND").stdout.strip() == "testimonials.invitations.mailbox.OutboxFileBackend"
    smtp = _settings(
        {"EMAIL_URL": "smtp+tls://vouch:p%40ss@smtp.example.com:587"},
        "s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS",
    ).stdout.strip()
    assert smtp == "django.core.mail.backends.smtp.EmailBackend smtp.example.com 587 vouch p@ss True"
    console = _settings({"EMAIL_URL": "consolemail://"}, "s.EMAIL_BACKEND").stdout.strip()
    assert console == "django.core.mail.backends.console.EmailBackend"


def test_a_malformed_email_url_or_a_dkim_selector_without_key_stops_start_up():
    bad = _settings({"EMAIL_URL": "gopher://mail"}, "1")
    assert bad.returncode != 0 and "EMAIL_URL is malformed" in bad.stderr
    no_key = _settings({"VOUCH_DKIM_SELECTOR": "vouch1"}, "1")
    assert no_key.returncode != 0 and "VOUCH_DKIM_PRIVATE_KEY_FILE" in no_key.stderr
    bad_rate = _settings({"VOUCH_INVITE_SEND_RATE": "fast"}, "1")
    assert bad_rate.returncode != 0 and "VOUCH_INVITE_SEND_RATE is malformed" in bad_rate.stderr


def test_the_deployment_check_warns_about_http_unsubscribe_links(settings):
    settings.PUBLIC_URL = "http://vouch.example.com"
    [warning] = unsubscribe_links_use_https(None)
    assert warning.id == "vouch.W101"
    settings.PUBLIC_URL = "https://vouch.example.com"
    assert unsubscribe_links_use_https(None) == []
