"""Hostile input, generated: the page never breaks, never runs what was typed, never loses it."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from testimonials.models import Testimonial
from tests.collection.collect_support import _fresh_rate_limits, form_url, valid_post  # noqa: F401

pytestmark = pytest.mark.django_db

HOSTILE = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            "{{ settings.SECRET_KEY }}",
            "{% debug %}",
            "javascript:alert(1)",
            "' OR 1=1 --",
            "\u202egnp.exe",
            "</textarea><script>x()</script>",
        ]
    ),
)
# Characters a browser cannot send in a form field (and Django refuses as NUL).
SENDABLE = HOSTILE.map(lambda s: s.replace("\x00", ""))
FIXTURES_OK = hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.SUBMIT_RATE_LIMIT = "0"  # many examples from one address


def _tag_count(html: str) -> int:
    return len(re.findall(r"<[a-zA-Z/!]", html))


@FIXTURES_OK
@given(text=SENDABLE, company=SENDABLE.map(lambda s: s[:100]))
def test_it_shows_any_input_back_as_text_without_changing_the_page(client, form_a, text, company):
    # Both pages carry exactly one error (the missing name), so their markup must match tag for tag.
    baseline = client.post(form_url(form_a), valid_post(form_a, author_name="")).content.decode()
    response = client.post(
        form_url(form_a), valid_post(form_a, author_name="", text="Hostile input: " + text, author_company=company)
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert _tag_count(html) == _tag_count(baseline)


@FIXTURES_OK
@given(name=SENDABLE, text=st.text(min_size=10, max_size=300).map(lambda s: s.replace("\x00", "")))
def test_it_stores_exactly_what_was_typed_or_explains_why_not(client, form_a, name, text):
    before = Testimonial.objects.count()
    response = client.post(form_url(form_a), valid_post(form_a, author_name=name, text=text))
    assert response.status_code in (303, 400)
    if response.status_code == 303:
        item = Testimonial.objects.order_by("-id").first()
        assert item.author_name == name.strip()
        assert item.text == text.strip()
    else:
        assert Testimonial.objects.count() == before
        assert 'class="error"' in response.content.decode()
