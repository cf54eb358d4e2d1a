"""Abuse: honeypot, too-fast submits, rate limits, double submits, oversized uploads, the captcha hook."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from testimonials.collection import abuse
from testimonials.models import MediaAsset, Testimonial
from tests.collection.collect_support import (  # noqa: F401
    _fresh_rate_limits,
    aged_token,
    form_url,
    jpeg_bytes,
    valid_post,
)

pytestmark = pytest.mark.django_db


def _stored_files(settings) -> list:
    root = settings.PRIVATE_MEDIA_ROOT / "originals"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_it_stores_nothing_when_the_honeypot_is_filled_but_looks_like_success(client, form_a):
    response = client.post(form_url(form_a), valid_post(form_a, website="https://spam.example.com"))
    assert response.status_code == 303
    assert "/thanks/" in response["Location"]
    assert not Testimonial.objects.exists()


def test_it_asks_a_too_fast_sender_to_check_and_keeps_what_they_typed(client, form_a, settings):
    settings.SUBMIT_MIN_SECONDS = 3
    data = valid_post(form_a, token=aged_token(form_a, seconds_ago=0.5))
    response = client.post(form_url(form_a), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "That was very fast" in html
    assert "The onboarding call saved us a week of work." in html
    assert not Testimonial.objects.exists()


def test_it_refuses_a_missing_or_forged_token_and_keeps_what_they_typed(client, form_a):
    for token in ("", "forged", aged_token(form_a)[:-3] + "abc"):
        response = client.post(form_url(form_a), valid_post(form_a, token=token))
        assert response.status_code == 400
        assert "could not be verified" in response.content.decode()
        assert "Maya Lopez" in response.content.decode()
    assert not Testimonial.objects.exists()


def test_it_refreshes_an_expired_token(client, form_a):
    data = valid_post(form_a, token=aged_token(form_a, seconds_ago=abuse.TOKEN_MAX_AGE_SECONDS + 10))
    response = client.post(form_url(form_a), data)
    html = response.content.decode()
    assert response.status_code == 400
    assert "open for a long time" in html
    assert f'value="{data["token"]}"' not in html  # a fresh token to send again with
    assert not Testimonial.objects.exists()


def test_it_stores_one_testimonial_when_the_same_page_is_sent_twice(client, form_a):
    data = valid_post(form_a)
    first = client.post(form_url(form_a), data)
    second = client.post(form_url(form_a), data)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Testimonial.objects.count() == 1


def test_it_stores_two_testimonials_from_two_pages(client, form_a):
    client.post(form_url(form_a), valid_post(form_a))
    client.post(form_url(form_a), valid_post(form_a))
    assert Testimonial.objects.count() == 2


# --------------------------------------------------------------------------- rate limit


def test_it_answers_429_with_a_friendly_page_that_keeps_the_text(client, form_a, settings):
    settings.SUBMIT_RATE_LIMIT = "2/h"
    for _ in range(2):
        assert client.post(form_url(form_a), valid_post(form_a)).status_code == 303
    data = valid_post(form_a, text="My third and heartfelt testimonial.")
    response = client.post(form_url(form_a), data)
    html = response.content.decode()
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "send it again in about" in html
    assert "My third and heartfelt testimonial." in html
    assert f'value="{data["token"]}"' in html
    assert Testimonial.objects.count() == 2


def test_it_counts_an_ipv6_slash_64_as_one_client(form_a, settings):
    settings.SUBMIT_RATE_LIMIT = "1/h"
    first = Client(REMOTE_ADDR="2001:db8:1:2::10")
    neighbour = Client(REMOTE_ADDR="2001:db8:1:2:ffff:ffff:ffff:ffff")
    elsewhere = Client(REMOTE_ADDR="2001:db8:1:3::10")
    assert first.post(form_url(form_a), valid_post(form_a)).status_code == 303
    assert neighbour.post(form_url(form_a), valid_post(form_a)).status_code == 429
    assert elsewhere.post(form_url(form_a), valid_post(form_a)).status_code == 303


def test_it_ignores_a_spoofed_x_forwarded_for_without_a_trusted_proxy(form_a, settings):
    settings.SUBMIT_RATE_LIMIT = "1/h"
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client(REMOTE_ADDR="203.0.113.7")
    assert client.post(form_url(form_a), valid_post(form_a), HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 303
    response = client.post(form_url(form_a), valid_post(form_a), HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert response.status_code == 429


def test_it_uses_the_address_the_trusted_proxy_saw(form_a, settings):
    settings.SUBMIT_RATE_LIMIT = "1/h"
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    # Two people behind the same reverse proxy are two clients; a forged left-most entry changes nothing.
    assert (
        proxy.post(form_url(form_a), valid_post(form_a), HTTP_X_FORWARDED_FOR="1.1.1.1, 198.51.100.1").status_code
        == 303
    )
    assert proxy.post(form_url(form_a), valid_post(form_a), HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 303
    response = proxy.post(form_url(form_a), valid_post(form_a), HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.1")
    assert response.status_code == 429


def test_it_can_switch_the_rate_limit_off(client, form_a, settings):
    settings.SUBMIT_RATE_LIMIT = "0"
    for _ in range(5):
        assert client.post(form_url(form_a), valid_post(form_a)).status_code == 303


def test_it_does_not_count_a_form_shown_again_for_a_mistake(client, form_a, settings):
    settings.SUBMIT_RATE_LIMIT = "1/h"
    for _ in range(3):
        assert client.post(form_url(form_a), valid_post(form_a, text="tiny")).status_code == 400
    assert client.post(form_url(form_a), valid_post(form_a)).status_code == 303


# --------------------------------------------------------------------------- oversized uploads


def test_it_refuses_a_20_mb_photo_stores_nothing_and_keeps_the_text(client, form_a, settings):
    settings.UPLOAD_MAX_PHOTO_BYTES = 10 * 1024 * 1024
    big = SimpleUploadedFile("huge.jpg", jpeg_bytes() + b"\x00" * (20 * 1024 * 1024), content_type="image/jpeg")
    response = client.post(form_url(form_a), {**valid_post(form_a), "photo": big})
    html = response.content.decode()
    assert response.status_code == 400
    assert "larger than 10 MB" in html
    assert 'id="photo-error"' in html
    assert "The onboarding call saved us a week of work." in html
    assert not Testimonial.objects.exists() and not MediaAsset.objects.exists()
    assert _stored_files(settings) == []


def test_it_refuses_a_body_larger_than_every_limit_together_before_reading_it(client, form_a, settings):
    settings.UPLOAD_MAX_PHOTO_BYTES = 1024
    settings.UPLOAD_MAX_VIDEO_BYTES = 2048
    response = client.post(
        form_url(form_a),
        {**valid_post(form_a), "video": SimpleUploadedFile("v.webm", b"\x1a\x45\xdf\xa3" + b"\x00" * 2_000_000)},
    )
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not Testimonial.objects.exists()
    assert _stored_files(settings) == []


def test_it_skips_files_in_fields_the_form_does_not_have(client, form_a, settings):
    extra = SimpleUploadedFile("x.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = client.post(form_url(form_a), {**valid_post(form_a), "logo": extra})
    assert response.status_code == 303
    assert not MediaAsset.objects.exists()


def test_it_refuses_two_files_in_one_field(client, form_a):
    files = [SimpleUploadedFile(f"p{i}.jpg", jpeg_bytes(), content_type="image/jpeg") for i in range(2)]
    response = client.post(form_url(form_a), {**valid_post(form_a), "photo": files})
    assert response.status_code == 400
    assert "Please send one file here." in response.content.decode()
    assert not MediaAsset.objects.exists()


# --------------------------------------------------------------------------- captcha hook


class RefusingVerifier:
    template = ""

    def verify(self, request):
        return request.POST.get("pow") == "solved"


class DownVerifier:
    template = ""

    def verify(self, request):
        raise abuse.CaptchaUnavailable("provider timed out")


def test_it_has_no_captcha_by_default(settings):
    assert settings.CAPTCHA_VERIFIER == ""
    assert abuse.captcha_verifier() is None


def test_it_refuses_a_failed_challenge_from_a_plugged_in_verifier(client, form_a, settings):
    settings.CAPTCHA_VERIFIER = f"{__name__}.RefusingVerifier"
    response = client.post(form_url(form_a), valid_post(form_a))
    assert response.status_code == 400
    assert "Please complete the check" in response.content.decode()
    assert client.post(form_url(form_a), valid_post(form_a, pow="solved")).status_code == 303
    assert Testimonial.objects.count() == 1


def test_it_keeps_a_submission_for_manual_review_when_the_verifier_is_down(client, form_a, settings):
    settings.CAPTCHA_VERIFIER = f"{__name__}.DownVerifier"
    response = client.post(form_url(form_a), valid_post(form_a))
    assert response.status_code == 303
    item = Testimonial.objects.get()
    assert item.state == Testimonial.State.RECEIVED
    assert [f["code"] for f in item.flags] == ["captcha_unavailable"]
    assert item.flags[0]["action"] == "hold"


# --------------------------------------------------------------------------- broker down


def test_it_thanks_the_customer_and_keeps_the_row_when_the_broker_is_down(
    client, form_a, monkeypatch, django_capture_on_commit_callbacks
):
    from testimonials.processing import tasks

    def unreachable(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.testimonial_process_task, "apply_async", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form_url(form_a), valid_post(form_a))
    assert response.status_code == 303 and "/thanks/" in response["Location"]
    assert Testimonial.objects.get().state == Testimonial.State.RECEIVED  # the sweeper's to pick up


def test_it_thanks_the_customer_even_when_enqueueing_fails_unexpectedly(
    client, form_a, monkeypatch, django_capture_on_commit_callbacks, settings
):
    from testimonials import queue

    def broken(*args, **kwargs):
        raise AttributeError("a stale setting in a long-running process")

    settings.VOUCH_ENQUEUE_BUGS_RAISE = False  # as in production: logged at ERROR, the sweeper recovers
    monkeypatch.setattr(queue, "_apply", broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(form_url(form_a), valid_post(form_a))
    assert response.status_code == 303
    assert Testimonial.objects.count() == 1


def test_it_stores_nothing_from_a_body_sent_without_a_length(client, form_a, settings):
    # Transfer-Encoding: chunked reaches Django without CONTENT_LENGTH; it must read nothing of it.
    big = SimpleUploadedFile("huge.jpg", jpeg_bytes() + b"\x00" * (12 * 1024 * 1024), content_type="image/jpeg")
    response = client.post(
        form_url(form_a),
        {**valid_post(form_a), "photo": big},
        CONTENT_LENGTH="",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 400
    assert not Testimonial.objects.exists() and not MediaAsset.objects.exists()
    assert _stored_files(settings) == []


def _solves(token: str, answer: int, bits: int) -> bool:
    import hashlib

    return int.from_bytes(hashlib.sha256(f"{token}:{answer}".encode()).digest(), "big") >> (256 - bits) == 0


def _solve(token: str, bits: int, *, not_for: str = "") -> str:
    for n in range(10_000_000):
        if _solves(token, n, bits) and not (not_for and _solves(not_for, n, bits)):
            return str(n)
    raise AssertionError("no solution")


def test_it_offers_a_self_hosted_proof_of_work(client, form_a, settings, monkeypatch):
    settings.CAPTCHA_VERIFIER = "testimonials.collection.abuse.ProofOfWork"
    monkeypatch.setattr(abuse.ProofOfWork, "bits", 10)
    assert 'data-pow-bits="10"' in client.get(form_url(form_a)).content.decode()
    data = valid_post(form_a)
    assert client.post(form_url(form_a), {**data, "pow": "12345x"}).status_code == 400
    assert not Testimonial.objects.exists()
    assert client.post(form_url(form_a), {**data, "pow": _solve(data["token"], 10)}).status_code == 303
    assert Testimonial.objects.count() == 1
    # A solution belongs to its page: it does not open another one.
    other = valid_post(form_a)
    reused = _solve(data["token"], 10, not_for=other["token"])
    assert client.post(form_url(form_a), {**other, "pow": reused}).status_code == 400
    assert Testimonial.objects.count() == 1
