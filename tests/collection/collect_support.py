"""Helpers for the collection page tests: a valid page token and a valid submission."""

from __future__ import annotations

import io
import threading
import time

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse
from PIL import Image

from testimonials.collection import abuse


def form_url(form) -> str:
    return reverse("collect-form", kwargs={"brand_slug": form.brand.slug, "form_slug": form.slug})


def aged_token(form, *, seconds_ago: float = 60, nonce: str | None = None) -> str:
    """A token as if the page had been open `seconds_ago` (people take a while to write)."""
    return abuse.form_token_issue(form_id=form.id, nonce=nonce, now=time.time() - seconds_ago)


def valid_post(form, **overrides) -> dict:
    data = {
        "token": aged_token(form),
        "rating": "5",
        "text": "The onboarding call saved us a week of work.",
        "author_name": "Maya Lopez",
        "author_email": "maya@example.com",
        "consent_given": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def jpeg_bytes(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


# A few bytes that sniff as WebM (EBML header naming the webm DocType).
WEBM_HEAD = bytes.fromhex("1a45dfa39f4286810142f7810142f2810442f381084282") + b"\x84webm"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the (process-wide) test cache: start every test from zero."""
    cache.clear()
    yield
    cache.clear()


def race_rate_takes(address: str, *, requests: int = 30, rate: str = "10/h") -> int:
    """How many of `requests` submits from one address, released at the same instant, the limit lets through."""
    start, passed = threading.Barrier(requests), []

    def take():
        request = RequestFactory().post("/", REMOTE_ADDR=address)
        start.wait()
        if abuse.rate_take(request, scope="submit", rate=rate) is None:
            passed.append(request)

    threads = [threading.Thread(target=take) for _ in range(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(passed)
