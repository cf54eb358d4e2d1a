"""Brute-force protection on /admin/login/ (django-axes): per account and per address, a clear page,
a cool-off, reset on success, and the client address read as the rate limits read it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration
from django.utils import timezone

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"


def _sign_in(client, username, password, ip="203.0.113.7", **meta):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip, **meta)


def test_it_refuses_the_right_password_after_25_wrong_ones(client, alice):
    for _ in range(25):
        assert _sign_in(client, "alice", "wrong").status_code in (200, 429)
    response = _sign_in(client, "alice", "pass-word-123")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Sign-in paused" in page and "too many wrong passwords" in page


def test_it_locks_the_account_whatever_the_address(client, alice, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "alice", "wrong", ip=f"198.51.100.{n}")
    assert _sign_in(client, "alice", "pass-word-123", ip="192.0.2.1").status_code == 429


def test_it_locks_the_address_whatever_the_account(client, alice, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, f"guess{n}", "wrong")
    assert _sign_in(client, "alice", "pass-word-123").status_code == 429
    assert _sign_in(client, "alice", "pass-word-123", ip="192.0.2.1").status_code == 302  # another address


def test_it_lets_the_right_password_in_after_the_cool_off(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "alice", "wrong")
    assert _sign_in(client, "alice", "pass-word-123").status_code == 429
    earlier = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=earlier)  # the cool-off has passed
    AccessAttemptExpiration.objects.update(expires_at=earlier)
    assert _sign_in(client, "alice", "pass-word-123").status_code == 302


def test_a_success_resets_the_count(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "alice", "wrong")
    assert _sign_in(client, "alice", "pass-word-123").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "alice", "wrong")
    assert _sign_in(client, "alice", "pass-word-123").status_code == 302


def test_it_counts_the_client_behind_trusted_proxies_not_the_proxy(client, alice, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="dora")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "nobody", "wrong", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9")
    # Another client behind the same proxy is not locked out by the first one's guesses.
    assert (
        _sign_in(client, "dora", "pass-word-123", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.10").status_code
        == 302
    )
    client.logout()
    assert (
        _sign_in(client, "dora", "pass-word-123", ip="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 429
    )
