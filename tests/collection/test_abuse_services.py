"""The anti-abuse building blocks: client IPs, /64 grouping, rates, the signed form token."""

from __future__ import annotations

import datetime
import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from testimonials.collection import abuse
from tests.collection.collect_support import race_rate_takes


def _request(remote="203.0.113.9", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().post("/", **extra)


def test_it_uses_remote_addr_when_no_proxy_is_trusted(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert abuse.client_ip(_request(forwarded="1.2.3.4")) == "203.0.113.9"


def test_it_reads_the_entry_the_trusted_proxies_appended(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert abuse.client_ip(_request(forwarded="6.6.6.6, 198.51.100.4, 10.0.0.1")) == "198.51.100.4"


def test_it_falls_back_to_remote_addr_for_a_short_or_garbled_header(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert abuse.client_ip(_request(forwarded="198.51.100.4")) == "203.0.113.9"
    assert abuse.client_ip(_request(forwarded="not-an-ip, 10.0.0.1")) == "203.0.113.9"


@pytest.mark.parametrize(
    ("ip", "group"),
    [
        ("198.51.100.4", "198.51.100.4"),
        ("2001:db8:aa:bb:1:2:3:4", "2001:db8:aa:bb::/64"),
        ("2001:db8:aa:bb::ffff", "2001:db8:aa:bb::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
        ("garbage", "invalid"),
    ],
)
def test_it_groups_ipv6_by_slash_64(ip, group):
    assert abuse.ip_group(ip) == group


@pytest.mark.parametrize(
    ("text", "rate"),
    [("10/h", abuse.Rate(10, 3600)), ("5/10m", abuse.Rate(5, 600)), ("3/d", abuse.Rate(3, 86400))],
)
def test_it_reads_rates(text, rate):
    assert abuse.parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0", "off", "", "0/h"])
def test_it_reads_zero_or_off_as_no_limit(text):
    assert abuse.parse_rate(text) is None


@pytest.mark.parametrize("text", ["10", "ten/h", "10/y", "10/"])
def test_it_refuses_a_malformed_rate_loudly(text):
    with pytest.raises(ValueError, match="A rate looks like"):
        abuse.parse_rate(text)


def test_it_reads_back_the_token_it_issued_for_the_same_form():
    token = abuse.form_token_read(abuse.form_token_issue(form_id=7, nonce="n1"), form_id=7)
    assert (token.form_id, token.nonce) == (7, "n1")
    assert token.submission_key == "form:7:n1"


def test_it_refuses_a_token_for_another_form():
    with pytest.raises(abuse.TokenProblem) as problem:
        abuse.form_token_read(abuse.form_token_issue(form_id=7), form_id=8)
    assert problem.value.code == "wrong_form"


def test_it_measures_fill_time_from_when_the_page_was_issued(settings):
    settings.SUBMIT_MIN_SECONDS = 3
    fresh = abuse.form_token_read(abuse.form_token_issue(form_id=1), form_id=1)
    with pytest.raises(abuse.TokenProblem):
        abuse.form_token_check_fill_time(fresh)
    old = abuse.form_token_read(abuse.form_token_issue(form_id=1, now=time.time() - 5), form_id=1)
    abuse.form_token_check_fill_time(old)


@given(st.text(max_size=300))
def test_it_never_accepts_a_token_it_did_not_sign(text):
    with pytest.raises(abuse.TokenProblem):
        abuse.form_token_read(text, form_id=1)


@given(st.text(max_size=200))
def test_it_never_crashes_on_any_forwarded_header(text):
    from django.conf import settings

    settings.TRUSTED_PROXY_COUNT = 1
    try:
        ip = abuse.client_ip(_request(forwarded=text.replace("\n", " ").replace("\r", " ")))
    finally:
        settings.TRUSTED_PROXY_COUNT = 0
    assert abuse.ip_group(ip) != "invalid"


@pytest.mark.parametrize(("name", "value"), [("SUBMIT_RATE_LIMIT", "ten per hour"), ("UPLOAD_RATE_LIMIT", "10/y")])
def test_it_refuses_to_start_with_a_malformed_rate(tmp_path, name, value):
    from tests.test_settings import _load

    result = _load({"DEBUG": "true", "VOUCH_VAR_DIR": str(tmp_path), name: value})
    assert result.returncode != 0
    assert name in result.stderr.splitlines()[-1]


def test_it_starts_with_the_rate_limit_switched_off(tmp_path):
    from tests.test_settings import _load

    result = _load(
        {"DEBUG": "true", "VOUCH_VAR_DIR": str(tmp_path), "SUBMIT_RATE_LIMIT": "0"},
        "from django.conf import settings as s; print(s.SUBMIT_RATE_LIMIT)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def _count(scope_rate: str, times: int, ip: str = "198.51.100.7") -> list[int | None]:
    """rate_take, as the view does; what it answered each time."""
    return [
        abuse.rate_take(RequestFactory().post("/", REMOTE_ADDR=ip), scope="submit", rate=scope_rate)
        for _ in range(times)
    ]


@pytest.mark.django_db
def test_it_counts_every_use_on_the_database_cache_and_keeps_the_whole_window(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "vouch_cache_test"}
    }
    call_command("createcachetable", verbosity=0)
    cache.clear()
    waits = _count("3/h", 5)
    assert waits[:3] == [None, None, None]
    assert all(wait is not None and wait > 0 for wait in waits[3:])
    with connection.cursor() as cursor:
        cursor.execute("SELECT expires FROM vouch_cache_test")
        (expires,) = cursor.fetchone()
    # Counting again must not shorten an hour's window to the cache's default five minutes.
    if timezone.is_naive(expires):
        expires = timezone.make_aware(expires, datetime.UTC)
    assert (expires - timezone.now()).total_seconds() > 3000


def test_it_gives_back_a_use_that_was_not_accepted():
    cache.clear()
    first = RequestFactory().post("/", REMOTE_ADDR="198.51.100.8")
    assert abuse.rate_take(first, scope="submit", rate="2/h") is None
    abuse.rate_give_back(first, scope="submit")  # e.g. the form was shown again for a mistake
    abuse.rate_give_back(first, scope="submit")  # only once
    assert _count("2/h", 3, ip="198.51.100.8")[:2] == [None, None]


def test_it_holds_the_limit_when_many_requests_from_one_address_race():
    """Counted first, atomically: of 30 parallel takes against a limit of 10, exactly 10 pass."""
    cache.clear()
    assert race_rate_takes("198.51.100.9") == 10
